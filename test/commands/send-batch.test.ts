/**
 * `es send-command --batch <file|->`: many commands from one process, the real binary against the
 * real broker and the sample bank service (command handler + projector as child processes). What
 * es produced is read back with kcat.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type RunningBank, startBank } from '../support/bank-service.js'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { type KcatRecord, kcatConsume } from '../support/kcat.js'

const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }
type Doc = Record<string, unknown>

function payloadOf(record: KcatRecord): Doc {
  return JSON.parse(record.payload ?? 'null')
}

function ndjson(lines: unknown[]): string {
  return `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`
}

describe('es send-command --batch (real binary, real broker, bank service)', () => {
  const brokers = testBrokers()
  let bank: RunningBank
  let dir: string

  const send = (args: string[], options: { input?: string } = {}) =>
    runEs(['send-command', ...args, '--config', bank.configFile], { env: cleanEnv, timeoutMs: 90_000, ...options })

  before(async () => {
    bank = await startBank('batch')
    dir = await mkdtemp(join(tmpdir(), 'es-batch-'))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
    const { handler, projector } = bank
    const codes = await bank.stop()
    assert.deepEqual(codes, { handler: 0, projector: 0 }, `${handler.stderr}\n${projector.stderr}`)
  })

  it('produces every line in file order per key; --wait counts accepted and rejected, exit 1', async () => {
    const accounts = Array.from({ length: 5 }, () => `acc-${randomBytes(4).toString('hex')}`)
    const lines: Doc[] = []
    for (const account of accounts) lines.push({ type: 'OpenAccount', data: { accountId: account, owner: 'Ann' } })
    // Interleaved deposits: per account 1, 2, …, 20 in file order (no type: the positional one).
    for (let amount = 1; amount <= 20; amount++) {
      for (const account of accounts) lines.push({ key: account, data: { amount } })
    }
    // Two withdrawals that overdraw: rejected by the service.
    lines.push({ type: 'WithdrawFunds', key: accounts[0], data: { amount: 1_000_000 } })
    lines.push({ type: 'WithdrawFunds', key: accounts[1], data: { amount: 1_000_000 }, headers: { origin: 'batch' } })
    const file = join(dir, 'ordered.ndjson')
    await writeFile(file, ndjson(lines))

    const run = await send(['DepositFunds', '--batch', file, '--wait', '--timeout', '60s'])
    assert.equal(run.code, 1, run.stderr)
    assert.match(run.stderr, new RegExp(`^sent ${lines.length} commands to ${bank.topics.commands}`, 'm'))
    assert.match(run.stderr, new RegExp(`^accepted ${lines.length - 2}, rejected 2, timed out 0$`, 'm'))

    const records = (await kcatConsume(brokers, bank.topics.commands)).filter((r) => accounts.includes(r.key ?? ''))
    assert.equal(records.length, lines.length)
    for (const account of accounts) {
      const mine = records.filter((r) => r.key === account).sort((a, b) => a.offset - b.offset)
      assert.equal(new Set(mine.map((r) => r.partition)).size, 1, 'one partition per key')
      const sequence = mine.map((r) => {
        const doc = payloadOf(r)
        return `${doc.type}:${(doc.data as Doc).amount ?? ''}`
      })
      const expected = ['OpenAccount:', ...Array.from({ length: 20 }, (_, i) => `DepositFunds:${i + 1}`)]
      if (account === accounts[0] || account === accounts[1]) expected.push('WithdrawFunds:1000000')
      assert.deepEqual(sequence, expected, `commands of ${account} in file order`)
    }
    const withHeader = records.find((r) => r.key === accounts[1] && payloadOf(r).type === 'WithdrawFunds')
    assert.ok(withHeader?.headers?.includes('origin'), JSON.stringify(withHeader))
  })

  it('a retry of the same ids is applied once by the service; --json gives the counts', async () => {
    const account = `acc-${randomBytes(4).toString('hex')}`
    const lines = [
      { type: 'OpenAccount', key: account, data: { owner: 'Bo' }, id: randomUUID() },
      { type: 'DepositFunds', key: account, data: { amount: 5 }, id: randomUUID(), expectedVersion: 1 },
      { type: 'DepositFunds', key: account, data: { amount: 7 }, id: randomUUID() },
    ]
    const file = join(dir, 'retry.ndjson')
    await writeFile(file, ndjson(lines))
    const first = await send(['--batch', file, '--wait', '--timeout', '60s', '--json'])
    assert.equal(first.code, 0, first.stderr)
    const summary = JSON.parse(first.stdout)
    assert.deepEqual([summary.sent, summary.accepted, summary.rejected, summary.timedOut], [3, 3, 0, 0])

    // The same file again, from stdin: produced again, skipped by the service.
    const retry = await send(['--batch', '-'], { input: ndjson(lines) })
    assert.equal(retry.code, 0, retry.stderr)
    assert.match(retry.stderr, /^sent 3 commands/m)
    const next = await send(['--batch', '-', '--wait', '--timeout', '60s', '--json'], {
      input: ndjson([{ type: 'DepositFunds', key: account, data: { amount: 1 }, expectedVersion: 3 }]),
    })
    assert.equal(next.code, 0, next.stderr)
    assert.deepEqual(JSON.parse(next.stdout).accepted, 1, 'expected version 3: the retry did not apply twice')

    const ids: string[] = lines.map((line) => line.id)
    const commands = (await kcatConsume(brokers, bank.topics.commands)).filter((r) =>
      ids.includes(payloadOf(r).id as string),
    )
    assert.equal(commands.length, 6, 'both sends reached the commands topic')
    const events = (await kcatConsume(brokers, bank.topics.events)).filter((r) =>
      ids.includes(payloadOf(r).causationId as string),
    )
    assert.deepEqual(
      events.map((r) => payloadOf(r).type),
      ['AccountOpened', 'FundsDeposited', 'FundsDeposited'],
    )
  })

  it('a bad line produces nothing: exit 5 naming the line and the field path', async () => {
    const topic = uniqueTopic('batch-bad')
    await createTopic(topic, 3)
    const good = { type: 'DepositFunds', key: 'acc-1', data: { amount: 1 } }
    const cases: Array<{ lines: unknown[]; error: RegExp }> = [
      {
        lines: [good, good, { ...good, data: { amount: -1 } }],
        error: /line 3: DepositFunds payload is invalid: \$\.amount must be > 0/,
      },
      { lines: [good, '{"type": "DepositFunds",', good], error: /line 2 is not valid JSON/ },
      { lines: [good, { key: 'acc-2', data: { amount: 1 } }], error: /line 2: \$\.type is required/ },
      { lines: [good, { ...good, type: 'Deposit' }], error: /line 2: unknown command type "Deposit"/ },
      { lines: [good, { type: 'DepositFunds', data: { amount: 1 } }], error: /line 2: DepositFunds has no key/ },
      { lines: [good, { ...good, headers: { a: 1 } }], error: /line 2: \$\.headers\.a must be a string/ },
      { lines: [good, { ...good, expectedVersion: -1 }], error: /line 2: \$\.expectedVersion must be/ },
    ]
    for (const { lines, error } of cases) {
      const file = join(dir, 'bad.ndjson')
      await writeFile(file, ndjson(lines))
      const run = await send(['--batch', file, '--topic', topic])
      assert.equal(run.code, 5, run.stderr)
      assert.match(run.stderr, error)
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    }
    const viaStdin = await send(['--batch', '-', '--topic', topic], { input: ndjson([good, { ...good, data: {} }]) })
    assert.equal(viaStdin.code, 5, viaStdin.stderr)
    assert.match(viaStdin.stderr, /line 2: DepositFunds payload is invalid: \$\.amount is required/)
    assert.deepEqual(await kcatConsume(brokers, topic), [], 'kcat reads nothing on the topic')
  })

  it('reads lines ended by LF or CRLF, a last line without one, blank lines counted, text split across reads', async () => {
    const topic = uniqueTopic('batch-lines')
    await createTopic(topic, 1)
    // ~1.5 MiB: the file is read in 1 MiB pieces, so lines and multi-byte characters span them.
    const note = 'é✓🙂'.repeat(40)
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ type: 'DepositFunds', key: 'acc-1', id: `line-${i + 1}`, data: { amount: 1, note } }),
    )
    const text = `${lines.slice(0, 10).join('\r\n')}\r\n\r\n${lines.slice(10).join('\n')}`
    assert.ok(Buffer.byteLength(text) > 1.2 * 1024 * 1024)
    const bad = `${text}\n\n{"type": "DepositFunds", "key": "acc-1", "data": {"amount": 0}}\n`
    const badFile = join(dir, 'lines-bad.ndjson')
    await writeFile(badFile, bad)
    const refused = await send(['--batch', badFile, '--topic', topic])
    assert.equal(refused.code, 5, refused.stderr)
    // 3000 commands, a blank line after the 10th and one before the bad line: it is line 3003.
    assert.match(refused.stderr, /line 3003: DepositFunds payload is invalid/)
    const file = join(dir, 'lines.ndjson')
    await writeFile(file, text)
    const run = await send(['--batch', file, '--topic', topic])
    assert.equal(run.code, 0, run.stderr)
    const records = await kcatConsume(brokers, topic)
    assert.equal(records.length, 3000)
    assert.deepEqual(
      records.map((r) => payloadOf(r).id),
      lines.map((_, i) => `line-${i + 1}`),
    )
    assert.ok(records.every((r) => (payloadOf(r).data as Doc).note === note))
  })

  it('a file of 8 MiB or more is encoded by two threads: file order kept, the first bad line reported, lines numbered across halves', async () => {
    const topic = uniqueTopic('batch-halves')
    await createTopic(topic, 1)
    const pad = 'x'.repeat(120)
    const count = 64_000
    const lines: string[] = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ type: 'DepositFunds', key: `acc-${i % 7}`, id: `half-${i + 1}`, data: { amount: 1, pad } }),
    )
    // Blank and CRLF lines around the middle, where the file is split: they count as lines on either side.
    const middle = count / 2
    const text = lines
      .map((line, i) => (Math.abs(i - middle) < 200 && i % 3 === 0 ? `${line}\r\n\n` : `${line}\n`))
      .join('')
    assert.ok(Buffer.byteLength(text) > 8.5 * 1024 * 1024)
    const lineOf = (index: number) => text.slice(0, text.indexOf(lines[index])).split('\n').length
    const bad = (index: number) =>
      JSON.stringify({ type: 'DepositFunds', key: 'acc-1', id: `bad-${index}`, data: { amount: 0 } })
    const withBad = (indexes: number[]) => {
      let out = text
      for (const index of indexes) out = out.replace(lines[index], bad(index))
      return out
    }
    const file = join(dir, 'halves.ndjson')
    for (const { indexes, reported } of [
      { indexes: [middle + 300], reported: middle + 300 },
      { indexes: [middle + 10], reported: middle + 10 },
      { indexes: [count - 1, 5], reported: 5 },
      { indexes: [middle - 10, middle + 10], reported: middle - 10 },
    ]) {
      await writeFile(file, withBad(indexes))
      const refused = await send(['--batch', file, '--topic', topic])
      assert.equal(refused.code, 5, refused.stderr)
      assert.match(refused.stderr, new RegExp(`line ${lineOf(reported)}: DepositFunds payload is invalid`))
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr)
    }
    assert.deepEqual(await kcatConsume(brokers, topic), [], 'nothing was produced')
    await writeFile(file, text)
    const run = await send(['--batch', file, '--topic', topic])
    assert.equal(run.code, 0, run.stderr)
    const records = await kcatConsume(brokers, topic)
    assert.deepEqual(
      records.map((r) => payloadOf(r).id),
      lines.map((_, i) => `half-${i + 1}`),
    )
  })
})
