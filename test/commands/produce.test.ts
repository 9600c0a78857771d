/**
 * `es produce` on the real broker, every record checked with kcat (an independent client):
 * kcat -P style lines (-K, -H, -p), compression, validation before producing, read-only profiles,
 * and the round trip `es tail <t> -e -o ndjson | es produce <other> --format ndjson` of a topic
 * kcat wrote (binary values, repeated and null headers, null keys, several partitions).
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import type { ProduceResult } from '../../src/produce/produce.js'
import { esBin, runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { kcatConsume } from '../support/kcat.js'
import { tempDir } from '../support/temp-dir.js'

const execFileAsync = promisify(execFile)
const brokers = testBrokers()

/** One record as kcat reads it, the value as its exact bytes. */
interface ExactRecord {
  partition: number
  offset: number
  key: string | null
  ts: number
  headers: string[]
  value: Buffer | null
}

/**
 * Every record of `topic` per kcat: keys, timestamps and headers from -J, the value bytes from a
 * second read whose format gives each value's size (%S, -1 for null) before its bytes.
 */
async function kcatExact(topic: string): Promise<ExactRecord[]> {
  const meta = await kcatConsume(brokers, topic)
  const { stdout } = await execFileAsync(
    'kcat',
    ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %S\n%s\n'],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  )
  const values = new Map<string, Buffer | null>()
  let at = 0
  while (at < stdout.length) {
    const eol = stdout.indexOf(0x0a, at)
    const [partition, offset, size] = stdout.subarray(at, eol).toString().split(' ').map(Number)
    const start = eol + 1
    const length = Math.max(0, size)
    values.set(`${partition}@${offset}`, size < 0 ? null : Buffer.from(stdout.subarray(start, start + length)))
    at = start + length + 1
  }
  return meta
    .map((r) => ({
      partition: r.partition,
      offset: r.offset,
      key: r.key,
      ts: r.ts ?? -1,
      headers: r.headers ?? [],
      value: values.get(`${r.partition}@${r.offset}`) ?? null,
    }))
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}

async function kcatProduceRaw(topic: string, args: string[], input?: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('kcat', ['-P', '-b', brokers, '-t', topic, ...args], { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c) => {
      stderr += c
    })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P ${args.join(' ')}: ${stderr}`))))
    child.stdin.end(input ?? '')
  })
}

describe('es produce', () => {
  it('produces kcat -P lines: -K key delimiter, -H headers, -p partition, exactly as kcat reads them back', async () => {
    const topic = uniqueTopic('produce-lines')
    await createTopic(topic, 3)
    const run = await runEs(
      ['produce', topic, '-K', ':', '-H', 'source=manual', '-H', 'trace=t1', '-p', '2', '--json', '--brokers', brokers],
      { input: 'acc-1:hello\nacc-2:{"amount":10}\nno key here\nacc-3:with:colons\n' },
    )
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as ProduceResult
    assert.deepEqual(result.partitions, [{ partition: 2, records: 4, firstOffset: 0, lastOffset: 3 }])
    const read = await kcatExact(topic)
    assert.deepEqual(
      read.map((r) => [r.partition, r.key, r.value?.toString(), r.headers]),
      [
        [2, 'acc-1', 'hello', ['source', 'manual', 'trace', 't1']],
        [2, 'acc-2', '{"amount":10}', ['source', 'manual', 'trace', 't1']],
        [2, null, 'no key here', ['source', 'manual', 'trace', 't1']],
        [2, 'acc-3', 'with:colons', ['source', 'manual', 'trace', 't1']],
      ],
    )
  })

  it('compresses with gzip, snappy and lz4 (kcat decompresses them); zstd needs a Node that has it', async () => {
    const topic = uniqueTopic('produce-compressed')
    await createTopic(topic, 1)
    const lines = Array.from({ length: 50 }, (_, n) => `k${n}:${'value '.repeat(20)}${n}`)
    for (const codec of ['gzip', 'snappy', 'lz4']) {
      const run = await runEs(['produce', topic, '-K:', '--compression', codec, '--brokers', brokers], {
        input: `${lines.join('\n')}\n`,
      })
      assert.equal(run.code, 0, `${codec}: ${run.stderr}`)
      assert.match(run.stderr, new RegExp(`produced 50 records .*${codec}`))
    }
    const read = await kcatExact(topic)
    assert.equal(read.length, 150)
    assert.deepEqual(
      read.map((r) => `${r.key}:${r.value}`),
      [...lines, ...lines, ...lines],
    )
    // (The broker validates every batch it stores by decompressing it: an LZ4 frame it cannot
    // read is refused with an error, as lz4js's own dependent-block frames were.)
    const zstd = await runEs(['produce', topic, '--compression', 'zstd', '--brokers', brokers], { input: 'x\n' })
    if (process.versions.node.split('.').map(Number)[0] < 22) {
      assert.equal(zstd.code, 2, zstd.stderr)
      assert.match(zstd.stderr, /zstd needs Node 22\.15/)
      assert.equal((await kcatExact(topic)).length, 150, 'nothing produced')
    } else {
      assert.equal(zstd.code, 0, zstd.stderr)
    }
  })

  it('validates every line first: a bad ndjson line exits 5 naming it, and nothing is produced', async () => {
    const topic = uniqueTopic('produce-invalid')
    await createTopic(topic, 2)
    const good = JSON.stringify({ key: 'a', partition: 0, timestamp: '2026-01-01T00:00:00.000Z', value: { n: 1 } })
    for (const [bad, why] of [
      ['{"key":"b","value":', /line 3: not JSON/],
      [JSON.stringify({ key: 'b', timestamp: 'yesterday', value: 1 }), /line 3: timestamp "yesterday"/],
      [JSON.stringify({ key: 'b', headers: [['h']], value: 1 }), /line 3: headers as a list/],
      [JSON.stringify({ key: 'b' }), /line 3: no value/],
      [JSON.stringify({ key: 'b', partition: 7, value: 1 }), /line 3: partition 7 does not exist/],
    ] as const) {
      const run = await runEs(['produce', topic, '--format', 'ndjson', '--brokers', brokers], {
        input: `${good}\n\n${bad}\n${good}\n`,
      })
      assert.equal(run.code, 5, run.stderr)
      assert.match(run.stderr, why)
      assert.match(run.stderr, /nothing was produced/)
    }
    assert.deepEqual(await kcatExact(topic), [])
  })

  it('writes ndjson headers given as [name, value] pairs in order, repeats and nulls kept, with keys, timestamps and partitions', async () => {
    const topic = uniqueTopic('produce-header-pairs')
    await createTopic(topic, 2)
    const lines = [
      {
        key: 'a',
        partition: 1,
        timestamp: '2026-01-02T03:04:05.678Z',
        headers: [
          ['trace', 'x'],
          ['kind', 'k'],
          ['trace', 'y'],
          ['empty', null],
        ],
        value: { n: 1 },
      },
      { key: null, partition: 0, timestamp: 1767225600000, headers: { only: 'object' }, value: 'base64:/wA=' },
      { key: 'c', partition: 0, timestamp: '2026-01-01T00:00:00.000Z', error: 'not JSON', raw: 'base64:gAE=' },
    ]
    const run = await runEs(['produce', topic, '--format', 'ndjson', '--brokers', brokers], {
      input: `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`,
    })
    assert.equal(run.code, 0, run.stderr)
    const read = await kcatExact(topic)
    assert.deepEqual(
      read.map((r) => [r.partition, r.key, r.ts, r.headers, r.value?.toString('hex')]),
      [
        [0, null, 1767225600000, ['only', 'object'], 'ff00'],
        [0, 'c', Date.parse('2026-01-01T00:00:00.000Z'), [], '8001'],
        [
          1,
          'a',
          Date.parse('2026-01-02T03:04:05.678Z'),
          ['trace', 'x', 'kind', 'k', 'trace', 'y', 'empty', null],
          Buffer.from('{"n":1}').toString('hex'),
        ],
      ],
    )
  })

  it('refuses under a read-only profile (exit 3 naming it) unless --allow-write --yes', async () => {
    const topic = uniqueTopic('produce-readonly')
    await createTopic(topic, 1)
    const dir = await tempDir('es-produce-profile')
    const config = join(dir, 'es.config.yaml')
    await writeFile(config, `defaultProfile: prod\nprofiles:\n  prod:\n    brokers: [${brokers}]\n    readOnly: true\n`)
    const refused = await runEs(['produce', topic, '--config', config], { input: 'one\n' })
    assert.equal(refused.code, 3, refused.stderr)
    assert.match(refused.stderr, /profile prod is read-only: refusing to produce to/)
    assert.deepEqual(await kcatExact(topic), [])
    const allowed = await runEs(['produce', topic, '--config', config, '--allow-write', '--yes'], { input: 'one\n' })
    assert.equal(allowed.code, 0, allowed.stderr)
    assert.deepEqual(
      (await kcatExact(topic)).map((r) => r.value?.toString()),
      ['one'],
    )
  })

  it('copies a topic kcat wrote through es tail -e -o ndjson | es produce --format ndjson, record by record', async () => {
    const source = uniqueTopic('roundtrip-source')
    const copy = uniqueTopic('roundtrip-copy')
    await createTopic(source, 3)
    await createTopic(copy, 3)
    const dir = await tempDir('es-roundtrip')
    // Binary values (invalid UTF-8, control bytes, a newline) with null keys: one file is one message.
    const binaries = [
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0a, 0x80]),
      Buffer.from([0x00]),
      Buffer.from('héllo\u0001wörld', 'utf8'),
    ]
    const files: string[] = []
    for (const [n, bytes] of binaries.entries()) {
      files.push(join(dir, `value-${n}.bin`))
      await writeFile(files[n], bytes)
    }
    // Repeated headers, interleaved with another, and a header without a value (null).
    await kcatProduceRaw(source, [
      '-p',
      '0',
      '-H',
      'trace=a',
      '-H',
      'kind=bin',
      '-H',
      'trace=b',
      '-H',
      'empty',
      ...files,
    ])
    await kcatProduceRaw(
      source,
      ['-p', '1', '-K:', '-H', 'kind=text'],
      'acc-1:plain text\nacc-2:{"n":2}\n:empty key\nacc-1:12\n',
    )
    await kcatProduceRaw(source, ['-p', '2', '-K:'], 'acc-9:["a",1]\nacc-9:last\n')
    const before = await kcatExact(source)
    assert.equal(before.length, 9)

    const pipe = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        'sh',
        [
          '-c',
          `"${process.execPath}" "${esBin}" tail "${source}" -e -o ndjson -b "${brokers}" | "${process.execPath}" "${esBin}" produce "${copy}" --format ndjson -b "${brokers}"`,
        ],
        { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
      )
      let stderr = ''
      child.stderr.on('data', (c) => {
        stderr += c
      })
      child.on('exit', (code) => resolve({ code, stderr }))
    })
    assert.equal(pipe.code, 0, pipe.stderr)
    assert.match(pipe.stderr, /produced 9 records/)

    const after = await kcatExact(copy)
    assert.equal(after.length, before.length)
    for (const [i, original] of before.entries()) {
      const copied = after[i]
      const where = `${original.partition}@${original.offset}`
      assert.equal(copied.partition, original.partition, where)
      assert.equal(copied.offset, original.offset, where)
      assert.equal(copied.key, original.key, where)
      assert.equal(copied.ts, original.ts, where)
      assert.deepEqual(copied.value, original.value, where)
      const repeatsOrNulls =
        new Set(original.headers.filter((_, n) => n % 2 === 0)).size < original.headers.length / 2 ||
        original.headers.some((v, n) => n % 2 === 1 && v === null)
      if (!repeatsOrNulls) {
        assert.deepEqual(copied.headers, original.headers, where)
      } else {
        // es tail's JSON holds headers by name (a repeated name: the array of its values), so every
        // value arrives, nulls included, in order within each name; names interleaved in the
        // original (trace, kind, trace) arrive grouped (trace, trace, kind), as the README says.
        const byName = (list: string[]) => {
          const values = new Map<string, string[]>()
          for (let n = 0; n < list.length; n += 2) values.set(list[n], [...(values.get(list[n]) ?? []), list[n + 1]])
          return values
        }
        assert.deepEqual(byName(copied.headers), byName(original.headers), where)
        assert.equal(copied.headers.length, original.headers.length, where)
      }
    }
  })
})
