/**
 * `es tail` end to end: the real binary against the real broker started by test/run.ts, with
 * records written and read back by kcat (librdkafka) as the independent reference.
 */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { javaArgs, kafkaLibDir } from '../../src/local/jars.js'
import { ndjsonLines, runEs, startEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { type KcatRecord, kcatConsume, kcatProduce } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'

interface TailLine {
  topic: string
  partition: number
  offset: number
  timestamp: string
  key: unknown
  type?: string
  id?: string
  aggregateId?: string
  version?: number
  headers?: Record<string, string>
  value?: unknown
  payload?: unknown
  error?: string
  raw?: string | null
}

const brokers = testBrokers()

const ndjson = (stdout: string) => ndjsonLines<TailLine>(stdout)

const at = (r: { partition: number; offset: number }) => `${r.partition}@${r.offset}`
const byPosition = (a: { partition: number; offset: number }, b: { partition: number; offset: number }) =>
  a.partition - b.partition || a.offset - b.offset

/** `es tail … --format ndjson`, bounded; fails the test on a non-zero exit. */
async function tail(args: string[], options: { cwd?: string } = {}): Promise<TailLine[]> {
  const run = await runEs(['tail', ...args, '--format', 'ndjson'], { cwd: options.cwd })
  assert.equal(run.code, 0, `es tail ${args.join(' ')}\n${run.stderr}`)
  return ndjson(run.stdout)
}

/** Positions (partition@offset) of es output, in output order within each partition. */
function positions(lines: Array<{ partition: number; offset: number }>): string[] {
  return [...lines].sort(byPosition).map(at)
}

function assertOffsetOrderPerPartition(lines: TailLine[]): void {
  const last = new Map<number, number>()
  for (const line of lines) {
    const previous = last.get(line.partition)
    if (previous !== undefined) assert.ok(line.offset > previous, `${at(line)} after offset ${previous}`)
    last.set(line.partition, line.offset)
  }
}

function endOffsets(records: KcatRecord[]): Map<number, number> {
  const ends = new Map<number, number>()
  for (const r of records) ends.set(r.partition, Math.max(ends.get(r.partition) ?? 0, r.offset + 1))
  return ends
}

describe('es tail on a config-less topic of 500 records written by kcat', () => {
  const topic = uniqueTopic('es-tail')
  let records: KcatRecord[]
  const payloadOf = (r: KcatRecord) => JSON.parse(r.payload ?? 'null') as { type: string; n: number; amount: number }

  before(async () => {
    await createTopic(topic, 3)
    const produced: Array<[string, string]> = Array.from({ length: 500 }, (_, n) => [
      `acc-${n % 37}`,
      JSON.stringify({ type: n % 3 === 0 ? 'AccountOpened' : 'FundsDeposited', n, amount: n % 50 }),
    ])
    await kcatProduce(brokers, topic, produced, { headers: { source: 'kcat-test' } })
    records = (await kcatConsume(brokers, topic)).sort(byPosition)
    assert.equal(records.length, 500)
    assert.equal(new Set(records.map((r) => r.partition)).size, 3, 'records in all 3 partitions')
  })

  it('--from-beginning -e shows every record, key for key and offset for offset', async () => {
    const run = await runEs(['tail', topic, '--brokers', brokers, '--from-beginning', '-e', '--format', 'ndjson'])
    assert.equal(run.code, 0, run.stderr)
    const lines = ndjson(run.stdout)
    assert.equal(lines.length, 500, `es tail showed ${lines.length} records; stderr: ${run.stderr}`)
    assert.match(run.stderr, /500 of 500 records shown; complete at/)
    assertOffsetOrderPerPartition(lines)
    const shown = new Map(lines.map((line) => [at(line), line]))
    assert.equal(shown.size, 500, 'no record shown twice')
    for (const record of records) {
      const line = shown.get(at(record))
      assert.ok(line, `${at(record)} shown`)
      assert.equal(line.topic, topic)
      assert.equal(line.key, record.key, `key at ${at(record)}`)
      assert.deepEqual(line.value, payloadOf(record), `value at ${at(record)}`)
      assert.deepEqual(line.headers, { source: 'kcat-test' }, `headers at ${at(record)}`)
      assert.equal(line.type, payloadOf(record).type)
      assert.equal(line.timestamp, new Date(record.ts!).toISOString())
      assert.equal(line.error, undefined)
    }
  })

  it('--from -N shows the last N records of each partition', async () => {
    const ends = endOffsets(records)
    const lines = await tail([topic, '--brokers', brokers, '--from', '-5', '-e'])
    assert.deepEqual(positions(lines), records.filter((r) => r.offset >= ends.get(r.partition)! - 5).map(at))
  })

  it('--from <offset> --partition p starts at that offset of that partition only', async () => {
    const lines = await tail([topic, '--brokers', brokers, '--from', '100', '--partition', '1', '-e'])
    const expected = records.filter((r) => r.partition === 1 && r.offset >= 100)
    assert.ok(expected.length > 0)
    assert.deepEqual(positions(lines), expected.map(at))
    assert.deepEqual(
      lines.map((l) => l.key),
      expected.map((r) => r.key),
    )
  })

  it('--until <offset> stops before that offset in every partition', async () => {
    const lines = await tail([topic, '--brokers', brokers, '--until', '20'])
    assert.deepEqual(positions(lines), records.filter((r) => r.offset < 20).map(at))
    assert.equal(lines.length, 60)
  })

  it('--limit stops after that many records, bounded or following', async () => {
    for (const extra of [['-e'], []]) {
      const lines = await tail([topic, '--brokers', brokers, '--from-beginning', '--limit', '7', ...extra])
      assert.equal(lines.length, 7, `--limit 7 ${extra.join(' ')}`)
      const known = new Set(records.map(at))
      for (const line of lines) assert.ok(known.has(at(line)))
    }
  })

  it('--key, --type and --where filter on the decoded record (zero-config: the value is the payload)', async () => {
    const byKey = await tail([topic, '--brokers', brokers, '--from-beginning', '-e', '--key', 'acc-5'])
    assert.deepEqual(positions(byKey), records.filter((r) => r.key === 'acc-5').map(at))
    assert.ok(byKey.length > 10)
    // A repeatable flag before the topic argument does not swallow it.
    const flagsFirst = await tail([
      '--key',
      'acc-5',
      '--partition',
      String(byKey[0].partition),
      topic,
      '--brokers',
      brokers,
      '-e',
      '--from-beginning',
    ])
    assert.deepEqual(positions(flagsFirst), positions(byKey))

    const byType = await tail([topic, '--brokers', brokers, '--from-beginning', '-e', '--type', 'AccountOpened'])
    assert.deepEqual(positions(byType), records.filter((r) => payloadOf(r).type === 'AccountOpened').map(at))

    const byWhere = await tail([
      topic,
      '--brokers',
      brokers,
      '--from-beginning',
      '-e',
      '--where',
      'payload.amount >= 45',
    ])
    assert.deepEqual(positions(byWhere), records.filter((r) => payloadOf(r).amount >= 45).map(at))
    assert.ok(byWhere.length > 0 && byWhere.length < 500)

    const combined = await tail([
      topic,
      '--brokers',
      brokers,
      '--from-beginning',
      '-e',
      '--key',
      'acc-7',
      '--key',
      'acc-8',
      '--type',
      'FundsDeposited',
      '--where',
      'payload.n < 300',
    ])
    assert.deepEqual(
      positions(combined),
      records
        .filter(
          (r) => ['acc-7', 'acc-8'].includes(r.key!) && payloadOf(r).type === 'FundsDeposited' && payloadOf(r).n < 300,
        )
        .map(at),
    )
    assert.ok(combined.length > 0)
  })

  it('an unknown topic exits 6 with a near match in a one-line error', async () => {
    const run = await runEs(['tail', topic.slice(0, -1), '--brokers', brokers, '-e'])
    assert.equal(run.code, 6, run.stderr)
    assert.equal(run.stdout, '')
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.ok(run.stderr.includes(topic.slice(0, -1)), run.stderr)
    assert.ok(run.stderr.includes(topic), `near match ${topic} in: ${run.stderr}`)
  })

  it('bad --from and --where values are usage errors (exit 2) on one line', async () => {
    for (const args of [
      ['--from', 'yesterdayish', '-e'],
      ['--until', 'soonish'],
      ['--where', 'payload.amount'],
    ]) {
      const run = await runEs(['tail', topic, '--brokers', brokers, ...args])
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
      assert.equal(run.stdout, '')
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
      assert.match(run.stderr, new RegExp(args[0]))
    }
  })
})

describe('es tail on batches compressed by librdkafka (kcat -z)', () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`reads ${codec} batches record for record as kcat does`, async () => {
      const topic = uniqueTopic(`es-tail-${codec}`)
      await createTopic(topic, 2)
      // Values long and repetitive enough to compress, in batches of many records.
      const produced: Array<[string, string]> = Array.from({ length: 300 }, (_, n) => [
        `k${n % 7}`,
        JSON.stringify({ type: 'Noted', n, text: `${codec} `.repeat(1 + (n % 40)) }),
      ])
      await kcatProduce(brokers, topic, produced, { compression: codec })
      const records = (await kcatConsume(brokers, topic)).sort(byPosition)
      assert.equal(records.length, 300)
      const run = await runEs(['tail', topic, '--brokers', brokers, '--from-beginning', '-e', '--format', 'ndjson'])
      assert.equal(run.code, 0, run.stderr)
      const lines = ndjson(run.stdout)
      assert.deepEqual(
        lines.map((l) => [at(l), l.key, l.value]),
        records.map((r) => [at(r), r.key, JSON.parse(r.payload ?? 'null')]),
      )
    })
  }
})

describe('es tail on batches compressed by the Java client (Kafka’s console producer)', () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`reads ${codec} batches${codec === 'snappy' ? ' (xerial framing)' : ''} record for record as kcat does`, async () => {
      const topic = uniqueTopic(`es-tail-java-${codec}`)
      await createTopic(topic, 1)
      const lines = Array.from({ length: 200 }, (_, n) => `k${n % 5}\t${JSON.stringify({ n, pad: 'a'.repeat(40) })}`)
      const producer = spawnSync(
        'java',
        javaArgs(kafkaLibDir(), 'org.apache.kafka.tools.ConsoleProducer', [
          '--bootstrap-server',
          brokers,
          '--topic',
          topic,
          '--compression-codec',
          codec,
          '--property',
          'parse.key=true',
        ]),
        { input: `${lines.join('\n')}\n`, encoding: 'utf8', timeout: 60_000 },
      )
      assert.equal(producer.status, 0, producer.stderr)
      const records = (await kcatConsume(brokers, topic)).sort(byPosition)
      assert.equal(records.length, 200)
      const run = await runEs(['tail', topic, '--brokers', brokers, '--from-beginning', '-e', '--format', 'ndjson'])
      assert.equal(run.code, 0, run.stderr)
      assert.deepEqual(
        ndjson(run.stdout).map((l) => [at(l), l.key, l.value]),
        records.map((r) => [at(r), r.key, JSON.parse(r.payload ?? 'null')]),
      )
    })
  }
})

describe('es tail against an unreachable broker', () => {
  it('exits 4 with a one-line error instead of hanging', async () => {
    const run = await runEs(['tail', 'anything', '--brokers', '127.0.0.1:1', '-e'], { timeoutMs: 45_000 })
    assert.equal(run.code, 4, run.stderr)
    assert.equal(run.stdout, '')
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.match(run.stderr, /127\.0\.0\.1:1/)
  })
})

describe('es tail --from/--until <ISO time>', () => {
  it('resolves times through the broker offsets-by-timestamp', async () => {
    const topic = uniqueTopic('es-tail-time')
    await createTopic(topic, 2)
    await kcatProduce(
      brokers,
      topic,
      Array.from({ length: 20 }, (_, n) => [`early-${n}`, JSON.stringify({ n })]),
    )
    const early = await kcatConsume(brokers, topic)
    assert.equal(early.length, 20)
    const cut = Math.max(...early.map((r) => r.ts!)) + 1
    // The next records must be created at or after the cut (kcat stamps them with this clock).
    await waitFor(
      'the clock to pass the cut',
      () => Date.now(),
      (now) => now > cut,
      { intervalMs: 5 },
    )
    await kcatProduce(
      brokers,
      topic,
      Array.from({ length: 20 }, (_, n) => [`late-${n}`, JSON.stringify({ n })]),
    )
    const all = (await kcatConsume(brokers, topic)).sort(byPosition)
    const late = all.filter((r) => r.key!.startsWith('late-'))
    assert.equal(late.length, 20)
    assert.ok(late.every((r) => r.ts! >= cut))

    const iso = new Date(cut).toISOString()
    const from = await tail([topic, '--brokers', brokers, '--from', iso, '-e'])
    assert.deepEqual(positions(from), late.map(at))
    assert.deepEqual(
      from.sort(byPosition).map((l) => l.key),
      late.map((r) => r.key),
    )

    const until = await tail([topic, '--brokers', brokers, '--until', iso])
    assert.deepEqual(positions(until), all.filter((r) => r.key!.startsWith('early-')).map(at))
  })
})

describe('es tail on a configured service', () => {
  const topic = uniqueTopic('es-tail-ledger')
  let dir: string
  let records: KcatRecord[]
  const TYPE_PREFIX = 'com.example.ledger.'

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-tail-config-'))
    // Type in a Spring-style header (class name shortened), aggregate id and payload inside the value.
    await writeFile(
      join(dir, 'es.config.yaml'),
      [
        `brokers: ${brokers}`,
        'services:',
        '  ledger:',
        '    streams:',
        `      events: ${topic}`,
        '    codec:',
        '      key: string',
        '      value: json',
        '    envelope:',
        '      type: header:__TypeId__ | simple-name',
        '      id: $.eventId',
        '      aggregateId: $.data.accountId',
        '      version: $.seq',
        '      timestamp: $.at',
        '      payload: $.data',
        '',
      ].join('\n'),
    )
    await createTopic(topic, 2)
    const event = (n: number, amount: number) =>
      JSON.stringify({
        eventId: `evt-${n}`,
        seq: n,
        at: new Date(Date.UTC(2024, 0, 1, 0, 0, n)).toISOString(),
        data: { accountId: `account-${n % 4}`, amount },
      })
    await kcatProduce(
      brokers,
      topic,
      Array.from({ length: 12 }, (_, n) => [`k-${n}`, event(n, n * 10)]),
      { headers: { __TypeId__: `${TYPE_PREFIX}FundsDeposited` } },
    )
    await kcatProduce(
      brokers,
      topic,
      Array.from({ length: 6 }, (_, i) => [`k-${100 + i}`, event(100 + i, i * 20)]),
      { headers: { __TypeId__: `${TYPE_PREFIX}FundsWithdrawn` } },
    )
    // Not JSON under a `json` value codec: it must be shown raw with the error, never dropped.
    await kcatProduce(brokers, topic, [['k-bad', '{"eventId": "evt-bad", oops']], {
      headers: { __TypeId__: `${TYPE_PREFIX}FundsDeposited` },
    })
    records = (await kcatConsume(brokers, topic)).sort(byPosition)
    assert.equal(records.length, 19)
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const typeOf = (r: KcatRecord) => r.headers![r.headers!.indexOf('__TypeId__') + 1].slice(TYPE_PREFIX.length)
  const decodable = () => records.filter((r) => r.key !== 'k-bad')

  it('decodes through the envelope, and shows an undecodable record raw with its error', async () => {
    const lines = await tail(['events', '--from-beginning', '-e'], { cwd: dir })
    assert.equal(lines.length, records.length, 'every record shown, the undecodable one too')
    const shown = new Map(lines.map((line) => [at(line), line]))
    for (const record of decodable()) {
      const line = shown.get(at(record))!
      const value = JSON.parse(record.payload!)
      assert.equal(line.key, record.key)
      assert.equal(line.type, typeOf(record))
      assert.equal(line.id, value.eventId)
      assert.equal(line.aggregateId, value.data.accountId)
      assert.equal(line.version, value.seq)
      assert.deepEqual(line.value, value)
      assert.deepEqual(line.payload, value.data, 'the envelope payload beside the value')
      assert.equal(line.error, undefined)
    }
    const bad = records.find((r) => r.key === 'k-bad')!
    const line = shown.get(at(bad))!
    assert.equal(line.key, 'k-bad')
    assert.equal(line.raw, bad.payload)
    assert.equal(line.value, undefined)
    assert.match(line.error!, /JSON/)
    assert.ok(line.error!.includes(`${topic}/${bad.partition}@${bad.offset}`), line.error)
  })

  it('filters by --type (simple name), --key and --where on the configured payload', async () => {
    const withdrawn = await tail(['events', '--from-beginning', '-e', '--type', 'FundsWithdrawn'], { cwd: dir })
    assert.deepEqual(
      positions(withdrawn),
      decodable()
        .filter((r) => typeOf(r) === 'FundsWithdrawn')
        .map(at),
    )
    assert.equal(withdrawn.length, 6)

    const big = await tail(['events', '--from-beginning', '-e', '--where', 'payload.amount > 50'], { cwd: dir })
    assert.deepEqual(
      positions(big),
      decodable()
        .filter((r) => JSON.parse(r.payload!).data.amount > 50)
        .map(at),
    )
    assert.ok(big.length > 0)

    const account = await tail(['events', '--from-beginning', '-e', '--where', 'aggregateId == account-1'], {
      cwd: dir,
    })
    assert.deepEqual(
      positions(account),
      decodable()
        .filter((r) => JSON.parse(r.payload!).data.accountId === 'account-1')
        .map(at),
    )

    // A key filter still applies to the raw key of an undecodable record.
    const byKey = await tail(['events', '--from-beginning', '-e', '--key', 'k-bad', '--key', 'k-3'], { cwd: dir })
    assert.deepEqual(byKey.map((l) => [l.key, l.error === undefined]).sort(), [
      ['k-3', true],
      ['k-bad', false],
    ])
  })

  it('reads the same through --config from another directory', async () => {
    const lines = await tail([
      '--config',
      join(dir, 'es.config.yaml'),
      '--from-beginning',
      '-e',
      '--type',
      'FundsWithdrawn',
    ])
    assert.equal(lines.length, 6)
    assert.ok(lines.every((l) => l.type === 'FundsWithdrawn' && l.topic === topic))
  })
})

describe('es tail following the log', () => {
  it('shows records produced after it started, and exits 0 on SIGINT', async () => {
    const topic = uniqueTopic('es-tail-live')
    await createTopic(topic, 2)
    await kcatProduce(brokers, topic, [
      ['old-1', '{"old":true}'],
      ['old-2', '{"old":true}'],
    ])
    const es = startEs(['tail', topic, '--brokers', brokers, '--format', 'ndjson'])
    const { child, exited } = es
    try {
      // The end is fixed when the reader has resolved it, which the child does not announce:
      // produce until one shows up (records produced before that are, rightly, not shown).
      const produced: string[] = []
      await waitFor(
        'a live record on the stdout of es tail',
        async () => {
          const key = `live-${produced.length}`
          produced.push(key)
          await kcatProduce(brokers, topic, [[key, JSON.stringify({ n: produced.length })]])
          return ndjson(es.stdout())
        },
        (lines) => lines.length > 0,
        { timeoutMs: 30_000, intervalMs: 500 },
      )
      await kcatProduce(brokers, topic, [['after', '{"after":true}']])
      const lines = await waitFor(
        'the record produced after the first one was seen',
        () => ndjson(es.stdout()),
        (ls) => ls.some((l) => l.key === 'after'),
        { timeoutMs: 10_000, intervalMs: 50 },
      )
      for (const line of lines) {
        assert.ok(line.key === 'after' || produced.includes(line.key as string), `unexpected ${line.key}`)
      }
      assert.deepEqual(lines.find((l) => l.key === 'after')!.value, { after: true })
      child.kill('SIGINT')
      assert.equal(await exited, 0, es.stderr())
      assert.ok(
        ndjson(es.stdout()).every((l) => !String(l.key).startsWith('old-')),
        'records before the start are not shown',
      )
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
