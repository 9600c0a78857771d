/**
 * What `es tail` and `es replay --out` write, end to end (issue #8, decoding and output): the
 * real binary against the real broker, with odd records (undecodable keys and values, repeated
 * and null headers, binary values, control characters) produced by kcat (librdkafka), and kcat's
 * own reading of them as the reference.
 */

import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { lstatSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { esBin, ndjsonLines, runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { kcatConsume, kcatProduce } from '../support/kcat.js'

const brokers = testBrokers()

interface TailLine {
  partition: number
  offset: number
  key: unknown
  keyError?: string
  keyRaw?: string | null
  type?: string
  headers?: Record<string, string | null | Array<string | null>>
  value?: unknown
  error?: string
  raw?: string | null
}

interface OddRecord {
  key?: string
  /** `-H` arguments: `name=value`, or `name` alone for a header with a null value. */
  headers?: string[]
  /** The value's bytes; undefined: a null value (kcat -Z with an empty file). */
  value?: Buffer
}

/** One record per file (`kcat -P file…`), so any bytes can be a value, with its own key and headers. */
async function kcatProduceOdd(topic: string, records: OddRecord[], dir: string): Promise<void> {
  for (const [i, record] of records.entries()) {
    const file = join(dir, `record-${i}`)
    await writeFile(file, record.value ?? Buffer.alloc(0))
    const args = ['-P', '-b', brokers, '-t', topic, '-p', '0', '-Z']
    if (record.key !== undefined) args.push('-k', record.key)
    for (const header of record.headers ?? []) args.push('-H', header)
    const run = spawnSync('kcat', [...args, file], { encoding: 'utf8' })
    assert.equal(run.status, 0, `kcat ${args.join(' ')}: ${run.stderr}`)
  }
}

/** `es …` with stdout as bytes (binary output is compared byte for byte). */
function runEsBytes(args: string[], cwd?: string): { code: number | null; stdout: Buffer; stderr: string } {
  const run = spawnSync(process.execPath, [esBin, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 << 20,
  })
  return { code: run.status, stdout: run.stdout, stderr: run.stderr.toString('utf8') }
}

describe('es tail on records whose key or value cannot be decoded, with repeated and null headers', () => {
  const topic = uniqueTopic('es-tail-odd')
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-tail-odd-'))
    await writeFile(
      join(dir, 'es.config.yaml'),
      [
        `brokers: ${brokers}`,
        'services:',
        '  ledger:',
        '    streams:',
        `      events: ${topic}`,
        '    codec:',
        '      key: json',
        '      value: json',
        '    envelope:',
        '      type: $.type',
        '',
      ].join('\n'),
    )
    await createTopic(topic, 1)
    await kcatProduce(brokers, topic, [
      ['"acc-05"', '{"type":"Deposited","amount":5}'],
      ['"acc-06"', '{"type":"Deposited","amount":6}'],
      // The poison record: a JSON key, a value that is not JSON.
      ['"acc-06"', '{"type":"Deposited", oops'],
      // A key that is not JSON under the json key codec, with a good value.
      ['acc-bad', '{"type":"Deposited","amount":7}'],
    ])
    await kcatProduceOdd(
      topic,
      [{ key: '"acc-07"', headers: ['h=1', 'other=x', 'h=2', 'nul', 'h=3'], value: Buffer.from('{"type":"Tagged"}') }],
      dir,
    )
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const tail = async (args: string[]): Promise<TailLine[]> => {
    const run = await runEs(['tail', 'events', '--from-beginning', '-e', '--format', 'ndjson', ...args], { cwd: dir })
    assert.equal(run.code, 0, run.stderr)
    return ndjsonLines<TailLine>(run.stdout)
  }

  it('#8.2 --key finds the record whose value cannot be decoded by its decoded key', async () => {
    const lines = await tail(['--key', 'acc-06'])
    assert.deepEqual(
      lines.map((l) => [l.offset, l.key, l.error === undefined]),
      [
        [1, 'acc-06', true],
        [2, 'acc-06', false],
      ],
    )
    const poison = lines[1]
    assert.match(poison.error!, /JSON/)
    assert.equal(poison.raw, '{"type":"Deposited", oops')
    assert.equal(poison.keyError, undefined)
    assert.equal(poison.keyRaw, undefined)
  })

  it('#8.2 an undecodable key shows the key error and the key bytes, apart from the decoded value', async () => {
    const line = (await tail([])).find((l) => l.offset === 3)!
    assert.equal(line.key, null)
    assert.match(line.keyError!, /JSON/)
    assert.ok(line.keyError!.includes(`${topic}/0@3`), line.keyError)
    assert.equal(line.keyRaw, 'acc-bad')
    assert.deepEqual(line.value, { type: 'Deposited', amount: 7 })
    assert.equal(line.error, undefined, 'the value decoded: no value error')
    assert.equal(line.raw, undefined)
  })

  it('#8.4 a repeated header keeps every value in order, a null header stays null (as kcat shows them)', async () => {
    const [kcat] = (await kcatConsume(brokers, topic)).filter((r) => r.offset === 4)
    assert.deepEqual(kcat.headers, ['h', '1', 'other', 'x', 'h', '2', 'nul', null, 'h', '3'])
    const line = (await tail([])).find((l) => l.offset === 4)!
    assert.deepEqual(line.headers, { h: ['1', '2', '3'], other: 'x', nul: null })
  })
})

describe('es tail -o raw', () => {
  it('#8.5 writes each value exactly as stored, binary included, one per line as kcat does', async () => {
    const topic = uniqueTopic('es-tail-raw')
    const dir = await mkdtemp(join(tmpdir(), 'es-tail-raw-'))
    try {
      await createTopic(topic, 1)
      const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 7) % 256))
      await kcatProduceOdd(
        topic,
        [
          { key: 'a', value: Buffer.from('{"amount": 10.0, "b":  [1,2]}') },
          { key: 'b', value: binary },
          { key: 'c', value: Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x32, 0x4a]) },
          { key: 'tombstone' },
          { key: 'd', value: Buffer.from('plain text') },
        ],
        dir,
      )
      const kcat = spawnSync('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q'], {
        maxBuffer: 16 << 20,
      })
      assert.equal(kcat.status, 0, kcat.stderr.toString())
      for (const flag of [
        ['-o', 'raw'],
        ['--format', 'raw'],
      ]) {
        const run = runEsBytes(['tail', topic, '--brokers', brokers, '--from-beginning', '-e', ...flag])
        assert.equal(run.code, 0, run.stderr)
        assert.ok(run.stdout.equals(kcat.stdout), `${flag.join(' ')}: es ${run.stdout.toString('hex')}`)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('es tail -o ndjson carries JSON values as stored', () => {
  it('#16.1 a JSON value keeps its stored text (a 20-digit integer keeps its digits, 10.0 stays 10.0); a value spread over lines is still one line', async () => {
    const topic = uniqueTopic('es-tail-stored-json')
    const dir = await mkdtemp(join(tmpdir(), 'es-tail-stored-json-'))
    try {
      await createTopic(topic, 1)
      await kcatProduceOdd(
        topic,
        [
          { key: 'a', value: Buffer.from('{"id":12345678901234567890,"amount": 10.0,"name":"caf\\u00e9"}') },
          { key: 'b', value: Buffer.from('{\n  "amount": 1,\n  "tags": ["x"]\n}') },
          { key: 'c', value: Buffer.from('[1,2,3]') },
          { key: 'd', value: Buffer.from([0x00]) }, // auto: bytes, not JSON text
        ],
        dir,
      )
      const run = await runEs(['tail', topic, '--brokers', brokers, '--from-beginning', '-e', '-o', 'ndjson'])
      assert.equal(run.code, 0, run.stderr)
      const lines = run.stdout.trimEnd().split('\n')
      assert.equal(lines.length, 4, run.stdout)
      assert.ok(lines[0].endsWith(',"value":{"id":12345678901234567890,"amount": 10.0,"name":"caf\\u00e9"}}'), lines[0])
      assert.deepEqual(JSON.parse(lines[1]).value, { amount: 1, tags: ['x'] })
      assert.deepEqual(JSON.parse(lines[2]).value, [1, 2, 3])
      assert.equal(JSON.parse(lines[3]).value, 'base64:AA==')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('es tail pretty output and control characters', () => {
  it('#8.6 escapes control characters in keys, types, header values and values; JSON is unchanged', async () => {
    const topic = uniqueTopic('es-tail-escape')
    const dir = await mkdtemp(join(tmpdir(), 'es-tail-escape-'))
    try {
      await writeFile(
        join(dir, 'es.config.yaml'),
        [
          `brokers: ${brokers}`,
          'services:',
          '  s:',
          '    streams:',
          `      events: ${topic}`,
          '    codec:',
          '      key: string',
          '      value: json',
          '    envelope:',
          '      type: $.type',
          '',
        ].join('\n'),
      )
      await createTopic(topic, 1)
      const value = { type: 'T\u001b[31mred', text: 'line1\r\nline2\u001b]0;title\u0007\u009b\u007f' }
      await kcatProduceOdd(
        topic,
        [
          {
            key: 'k\u001b[2J\rX',
            headers: ['h=v\u001b[1m\nnext'],
            value: Buffer.from(JSON.stringify(value)),
          },
          // Undecodable (not JSON): shown raw with the error, escaped the same.
          { key: 'bad', value: Buffer.from('\u001b[2Jnot json\r\n') },
        ],
        dir,
      )
      const pretty = runEsBytes(['tail', 'events', '--from-beginning', '-e'], dir)
      assert.equal(pretty.code, 0, pretty.stderr)
      const text = pretty.stdout.toString('utf8')
      const lines = text.split('\n')
      assert.equal(lines.pop(), '', 'ends with a newline')
      assert.equal(lines.length, 2, `one line per record:\n${text}`)
      // No control character at all besides the line ends (NO_COLOR: no colour codes either).
      assert.doesNotMatch(text.replaceAll('\n', ''), /[\u0000-\u001f\u007f-\u009f]/)
      assert.ok(lines[0].includes('k\\x1b[2J\\rX'), lines[0])
      assert.ok(lines[0].includes('T\\x1b[31mred'), lines[0])
      assert.ok(lines[0].includes('v\\x1b[1m\\nnext'), lines[0])
      // The value is shown as JSON text, which escapes these itself: \r\n and \u001b stay as JSON wrote them.
      assert.ok(lines[0].includes('line1\\r\\nline2\\u001b]0;title\\u0007'), lines[0])
      assert.ok(lines[1].includes('\\x1b[2Jnot json\\r\\n'), lines[1])

      const json = runEsBytes(['tail', 'events', '--from-beginning', '-e', '-o', 'ndjson'], dir)
      const [first] = ndjsonLines<TailLine>(json.stdout.toString('utf8'))
      assert.equal(first.key, 'k\u001b[2J\rX')
      assert.equal(first.type, value.type)
      assert.deepEqual(first.value, value)
      assert.deepEqual(first.headers, { h: 'v\u001b[1m\nnext' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('es replay --out on devices, symlinks and stdout', () => {
  const topic = uniqueTopic('es-replay-out')
  let dir: string
  const replay = (out: string) =>
    runEsBytes(
      ['replay', '--topic', topic, '--brokers', brokers, '--reducer', 'count', '--from-beginning', '--out', out],
      dir,
    )
  const expected = { 'acc-1': { A: 2, B: 1 }, 'acc-2': { A: 1 } }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-replay-out-'))
    await createTopic(topic, 1)
    await kcatProduce(brokers, topic, [
      ['acc-1', '{"type":"A"}'],
      ['acc-2', '{"type":"A"}'],
      ['acc-1', '{"type":"B"}'],
      ['acc-1', '{"type":"A"}'],
    ])
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('#8.7 --out through a symlink to /dev/stdout writes to stdout and leaves the symlink', async () => {
    // A link of our own to /dev/stdout: the same path resolution as /dev/stdout itself, without
    // putting the machine's /dev/stdout at risk if es replaced it.
    const link = join(dir, 'stdout.ndjson')
    await symlink('/dev/stdout', link)
    const run = replay(link)
    assert.equal(run.code, 0, run.stderr)
    assert.ok(lstatSync(link).isSymbolicLink(), 'still a symlink')
    const lines = ndjsonLines<{ aggregateId: string; state: unknown }>(run.stdout.toString('utf8'))
    assert.deepEqual(Object.fromEntries(lines.map((l) => [l.aggregateId, l.state])), expected)
  })

  it('#8.7 --out through a symlink to a regular file replaces the file, not the link', async () => {
    const target = join(dir, 'target.json')
    const link = join(dir, 'link.json')
    await writeFile(target, 'old')
    await symlink(target, link)
    const run = replay(link)
    assert.equal(run.code, 0, run.stderr)
    assert.ok(lstatSync(link).isSymbolicLink(), 'still a symlink')
    assert.deepEqual(JSON.parse(readFileSync(target, 'utf8')), expected)
  })

  it('#8.7 --out to a FIFO writes through it', async () => {
    const fifo = join(dir, 'state.fifo')
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] })
    let read = ''
    reader.stdout.on('data', (chunk) => {
      read += chunk
    })
    const closed = new Promise((resolve) => reader.on('close', resolve))
    try {
      const run = replay(fifo)
      assert.equal(run.code, 0, run.stderr)
      // Replaced by a file, the FIFO would never see a writer: cat is stopped below, not awaited.
      assert.ok(lstatSync(fifo).isFIFO(), 'still a FIFO')
      await closed
      assert.deepEqual(JSON.parse(read), expected)
    } finally {
      if (reader.exitCode === null) reader.kill('SIGKILL')
    }
  })

  it('#8.7 --out - writes NDJSON {aggregateId, state} lines to stdout', async () => {
    const run = replay('-')
    assert.equal(run.code, 0, run.stderr)
    const lines = ndjsonLines<{ aggregateId: string; state: unknown }>(run.stdout.toString('utf8'))
    assert.equal(lines.length, 2)
    assert.deepEqual(Object.fromEntries(lines.map((l) => [l.aggregateId, l.state])), expected)
    assert.ok(lines.every((l) => Object.keys(l).join() === 'aggregateId,state'))
    assert.match(run.stderr, /written to stdout/)

    // With --json the result owns stdout: a usage error, nothing written.
    const both = runEsBytes(
      ['replay', '--topic', topic, '--brokers', brokers, '--reducer', 'count', '--out', '-', '--json'],
      dir,
    )
    assert.equal(both.code, 2, both.stderr)
    assert.equal(both.stdout.length > 0 && /aggregateId/.test(both.stdout.toString()), false)
  })
})
