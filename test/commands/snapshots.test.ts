/**
 * `es snapshots` end to end: the real binary against the real broker started by test/run.ts, on a
 * compacted topic with several versions per key, tombstones, a key deleted and written again, and
 * an empty partition. What the log holds is read back with kcat (librdkafka), independently of es.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { type KcatRecord, kcatConsume } from '../support/kcat.js'
import { tableRows } from '../support/table.js'

interface Snapshot {
  owner: string
  balance: number
  v: number
}

interface SnapshotEntry {
  key: string
  value: unknown
  topic: string
  partition: number
  offset: number
  timestamp: string
  error?: string
}

interface SnapshotsJson {
  topics: string[]
  entries: SnapshotEntry[]
  records: number
  deleted: number
  undecodable: number
}

const brokers = testBrokers()
const byPosition = (a: KcatRecord, b: KcatRecord) => a.partition - b.partition || a.offset - b.offset

describe('es snapshots on a compacted topic', () => {
  const topic = uniqueTopic('es-snapshots')
  let log: KcatRecord[]
  let dir: string
  /** Expected: the latest value per key, deleted keys absent (from what the test wrote). */
  const latest = new Map<string, Snapshot | null>()

  const snapshots = (args: string[], cwd?: string) =>
    runEs(cwd ? ['snapshots', ...args] : ['snapshots', '--brokers', brokers, '--topic', topic, ...args], { cwd })

  before(async () => {
    await createTopic(topic, 4, [{ name: 'cleanup.policy', value: 'compact' }])
    // Keys 0–9 in partitions 0–2 (partition 3 stays empty), 2–4 versions each, in rounds so that
    // versions of different keys interleave. Keys 2 and 5 end deleted; key 7 is deleted and
    // written again.
    const messages: Array<{ key: string; value: string | null; partition: number }> = []
    for (let round = 1; round <= 4; round++) {
      for (let k = 0; k < 10; k++) {
        const key = `acc-${k}`
        if (round > (k % 3) + 2) continue
        const snapshot: Snapshot = { owner: `owner-${k}`, balance: k * 100 + round, v: round }
        messages.push({ key, value: JSON.stringify(snapshot), partition: k % 3 })
        latest.set(key, snapshot)
        if (k === 7 && round === 2) {
          messages.push({ key, value: null, partition: k % 3 })
          latest.set(key, null)
        }
      }
    }
    for (const k of [2, 5]) {
      messages.push({ key: `acc-${k}`, value: null, partition: k % 3 })
      latest.set(`acc-${k}`, null)
    }
    const producer = testKafka().producer()
    await producer.connect()
    try {
      await producer.send({ topic, acks: -1, messages })
    } finally {
      await producer.disconnect()
    }
    log = (await kcatConsume(brokers, topic)).sort(byPosition)
    assert.equal(log.length, messages.length)
    assert.ok(!log.some((r) => r.partition === 3), 'partition 3 is empty')

    dir = await mkdtemp(join(tmpdir(), 'es-snapshots-config-'))
    await writeFile(
      join(dir, 'es.config.yaml'),
      [
        `brokers: ${brokers}`,
        'services:',
        '  ledger:',
        '    streams:',
        `      snapshots: ${topic}`,
        '    codec:',
        '      key: string',
        '      value: json',
        '',
      ].join('\n'),
    )
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** The last record of each key in the log (kcat's view). */
  function lastRecords(): Map<string, KcatRecord> {
    const last = new Map<string, KcatRecord>()
    for (const record of log) last.set(record.key!, record)
    return last
  }

  const present = () =>
    [...latest]
      .filter(([, value]) => value !== null)
      .map(([key]) => key)
      .sort()

  it('shows a table of the latest value per key, deleted keys absent', async () => {
    const run = await snapshots([])
    assert.equal(run.code, 0, run.stderr)
    const rows = tableRows(run.stdout)
    assert.deepEqual(
      rows.map((row) => row.key),
      present(),
    )
    const last = lastRecords()
    for (const row of rows) {
      const expected = latest.get(row.key)!
      assert.equal(row.owner, expected.owner)
      assert.equal(row.balance, String(expected.balance))
      assert.equal(row.v, String(expected.v))
      const record = last.get(row.key)!
      assert.equal(row.at, `${record.partition}@${record.offset}`)
    }
    assert.ok(!run.stdout.includes('acc-2') && !run.stdout.includes('acc-5'), 'deleted keys absent')
    assert.match(run.stderr, /2 deleted/)
  })

  it('--json lists the entries with where each one is in the log', async () => {
    const run = await snapshots(['--json'])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as SnapshotsJson
    assert.deepEqual(result.topics, [topic])
    assert.equal(result.records, log.length)
    assert.equal(result.deleted, 2)
    assert.equal(result.undecodable, 0)
    const last = lastRecords()
    assert.deepEqual(
      result.entries,
      present().map((key) => {
        const record = last.get(key)!
        return {
          key,
          value: latest.get(key),
          topic,
          partition: record.partition,
          offset: record.offset,
          timestamp: new Date(record.ts!).toISOString(),
        }
      }),
    )
  })

  it('one key: its latest value, also after it was deleted and written again', async () => {
    for (const key of ['acc-4', 'acc-7']) {
      const run = await snapshots([key])
      assert.equal(run.code, 0, run.stderr)
      assert.deepEqual(JSON.parse(run.stdout), latest.get(key))
    }
    const json = await snapshots(['acc-1', '--json'])
    assert.equal(json.code, 0, json.stderr)
    const result = JSON.parse(json.stdout) as SnapshotsJson
    assert.deepEqual(
      result.entries.map((e) => [e.key, e.value]),
      [['acc-1', latest.get('acc-1')]],
    )
  })

  it('--history shows every version still in the log, tombstones included', async () => {
    for (const key of ['acc-7', 'acc-2', 'acc-9']) {
      const run = await snapshots([key, '--history', '--json'])
      assert.equal(run.code, 0, run.stderr)
      const result = JSON.parse(run.stdout) as SnapshotsJson
      const versions = log.filter((r) => r.key === key)
      assert.deepEqual(
        result.entries.map((e) => [e.partition, e.offset, e.value]),
        versions.map((r) => [r.partition, r.offset, r.payload === null ? null : JSON.parse(r.payload)]),
        `history of ${key}`,
      )
    }
    const acc7 = log.filter((r) => r.key === 'acc-7')
    assert.ok(acc7.length >= 4 && acc7.some((r) => r.payload === null), 'acc-7 has versions and a tombstone')

    const table = await snapshots(['acc-7', '--history'])
    assert.equal(table.code, 0, table.stderr)
    const rows = tableRows(table.stdout)
    assert.equal(rows.length, acc7.length)
    assert.deepEqual(
      rows.map((row) => row.at),
      acc7.map((r) => `${r.partition}@${r.offset}`),
    )
    assert.equal(rows.filter((row) => Object.values(row).includes('(tombstone)')).length, 1)
  })

  it('a deleted key and a key never seen exit 6 with a one-line error', async () => {
    for (const key of ['acc-2', 'acc-5', 'acc-404']) {
      const run = await snapshots([key])
      assert.equal(run.code, 6, `${key}: ${run.stderr}`)
      assert.equal(run.stdout, '')
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
      assert.ok(run.stderr.includes(key), run.stderr)
    }
    assert.match((await snapshots(['acc-2'])).stderr, /deleted/)
    const json = await snapshots(['acc-404', '--json'])
    assert.equal(json.code, 6)
    assert.equal(JSON.parse(json.stdout).error.exitCode, 6)
  })

  it('an unknown topic exits 6 naming a near match', async () => {
    const run = await runEs(['snapshots', '--brokers', brokers, '--topic', `${topic}x`])
    assert.equal(run.code, 6, run.stderr)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.ok(run.stderr.includes(`did you mean ${topic}`), run.stderr)
  })

  it('reads the snapshots stream of a configured service', async () => {
    const run = await snapshots(['--json'], dir)
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as SnapshotsJson
    assert.deepEqual(result.topics, [topic])
    assert.deepEqual(
      result.entries.map((e) => e.key),
      present(),
    )
    const one = await snapshots(['acc-8'], dir)
    assert.equal(one.code, 0, one.stderr)
    assert.deepEqual(JSON.parse(one.stdout), latest.get('acc-8'))
  })
})

describe('es snapshots --history', () => {
  it('--history lists versions in log order, also when record timestamps go backwards', async () => {
    // Producer-set timestamps need not grow (Kafka Streams changelogs carry event time).
    const key = 'acc-clock'
    const topic = uniqueTopic('es-snapshots-clock')
    await createTopic(topic, 2, [{ name: 'cleanup.policy', value: 'compact' }])
    const now = Date.now()
    const producer = testKafka().producer()
    await producer.connect()
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: [1, 2, 3].map((v) => ({
          key,
          partition: 1,
          value: JSON.stringify({ owner: 'clock', balance: v, v }),
          timestamp: String(now - v * 60_000),
        })),
      })
    } finally {
      await producer.disconnect()
    }
    const versions = (await kcatConsume(brokers, topic)).filter((r) => r.key === key).sort(byPosition)
    assert.equal(versions.length, 3)
    assert.ok(versions[0].ts! > versions[2].ts!, 'timestamps go backwards')

    const run = await runEs(['snapshots', key, '--history', '--json', '--brokers', brokers, '--topic', topic])
    assert.equal(run.code, 0, run.stderr)
    const history = (JSON.parse(run.stdout) as SnapshotsJson).entries
    assert.deepEqual(
      history.map((e) => [e.offset, (e.value as Snapshot).v]),
      versions.map((r) => [r.offset, JSON.parse(r.payload!).v]),
    )
    const latestRun = await runEs(['snapshots', key, '--brokers', brokers, '--topic', topic])
    assert.equal(latestRun.code, 0, latestRun.stderr)
    assert.deepEqual(JSON.parse(latestRun.stdout), history.at(-1)!.value, 'the last version shown is the latest')
  })
})
