/**
 * `es snapshots` at any size, end to end (real binary, real broker): the latest value per key is
 * kept in bounded memory, `--json` and `-o ndjson` stream every key, and the table shows a bounded
 * page in key order and says what it left out. What the log holds is read back with kcat.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ndjsonLines, runEs, runEsMeasured } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { kcatConsume, kcatProduce } from '../support/kcat.js'
import { tableRows } from '../support/table.js'

const brokers = testBrokers()
const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

interface Entry {
  key: string | null
  value?: unknown
  error?: string
  raw?: string | null
  topic: string
  partition: number
  offset: number
  timestamp: string
}

const keyOf = (i: number) => `k-${String(i).padStart(8, '0')}`
const snapshotOf = (i: number, v: number) =>
  `{"id":"${keyOf(i)}","v":${v},"owner":"owner ${i}","balance":${i * 10 + v}}`

/** `keys` keys × `versions` versions, written by kcat in rounds (versions of different keys interleave). */
async function produceVersions(topic: string, keys: number, versions: number): Promise<void> {
  const chunk = 200_000
  for (let v = 1; v <= versions; v++) {
    for (let start = 0; start < keys; start += chunk) {
      const records: Array<[string, string]> = []
      for (let i = start; i < Math.min(keys, start + chunk); i++) records.push([keyOf(i), snapshotOf(i, v)])
      await kcatProduce(brokers, topic, records)
    }
  }
}

describe('es snapshots at scale', () => {
  it('a table of more keys than the page shows the first 1,000 in key order, exits 0 and says how many it left out', async () => {
    const topic = uniqueTopic('es-snapshots-page')
    await createTopic(topic, 3, [{ name: 'cleanup.policy', value: 'compact' }])
    await produceVersions(topic, 2500, 2)
    const run = await runEs(['snapshots', '--brokers', brokers, '--topic', topic], { env: cleanEnv })
    assert.equal(run.code, 0, run.stderr)
    const rows = tableRows(run.stdout)
    assert.deepEqual(
      rows.map((row) => row.key),
      Array.from({ length: 1000 }, (_, i) => keyOf(i)),
    )
    assert.deepEqual(
      rows.slice(0, 3).map((row) => row.v),
      ['2', '2', '2'],
    )
    assert.match(run.stderr, /1,000 of 2,500 keys shown/)
    assert.match(run.stderr, /1,500 keys left out/)
    assert.match(run.stderr, /-o ndjson/)
    assert.match(run.stderr, /--limit/)

    const more = await runEs(['snapshots', '--brokers', brokers, '--topic', topic, '--limit', '2500'], {
      env: cleanEnv,
    })
    assert.equal(more.code, 0, more.stderr)
    const keys = new Set(tableRows(more.stdout).map((row) => row.key))
    assert.deepEqual(
      Array.from({ length: 2500 }, (_, i) => keyOf(i)).filter((key) => !keys.has(key)),
      [],
      `${more.stderr}\n${more.stdout.split('\n').slice(0, 3).join('\n')}`,
    )
    assert.doesNotMatch(more.stderr, /left out/)
  })

  it('-o ndjson and --json give the keys and values kcat reads (last value per key, tombstones applied)', async () => {
    const topic = uniqueTopic('es-snapshots-oracle')
    await createTopic(topic, 4, [{ name: 'cleanup.policy', value: 'compact' }])
    await produceVersions(topic, 300, 3)
    // Tombstones (kcat -Z: an empty value is a null value) for every seventh key.
    const { spawn } = await import('node:child_process')
    await new Promise<void>((resolve, reject) => {
      const child = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K:', '-Z'], {
        stdio: ['pipe', 'ignore', 'inherit'],
      })
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}`))))
      child.stdin.end(
        `${Array.from({ length: 300 }, (_, i) => i)
          .filter((i) => i % 7 === 0)
          .map((i) => `${keyOf(i)}:`)
          .join('\n')}\n`,
      )
    })
    const oracle = new Map<string, string | null>()
    const log = await kcatConsume(brokers, topic)
    for (const record of log.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
      oracle.set(record.key!, record.payload)
    }
    const expected = [...oracle]
      .filter(([, payload]) => payload !== null)
      .map(([key, payload]) => [key, JSON.parse(payload!)])
      .sort(([a], [b]) => (a < b ? -1 : 1))
    assert.equal(expected.length, 300 - 43)

    const ndjson = await runEs(['snapshots', '--brokers', brokers, '--topic', topic, '-o', 'ndjson'], { env: cleanEnv })
    assert.equal(ndjson.code, 0, ndjson.stderr)
    const lines = ndjsonLines<Entry>(ndjson.stdout)
    assert.deepEqual(
      lines.map((e) => [e.key, e.value]),
      expected,
    )
    const last = new Map(log.map((r) => [r.key!, r]))
    for (const entry of lines) {
      const record = last.get(entry.key!)!
      assert.deepEqual([entry.topic, entry.partition, entry.offset], [topic, record.partition, record.offset])
    }

    const json = await runEs(['snapshots', '--brokers', brokers, '--topic', topic, '--json'], { env: cleanEnv })
    assert.equal(json.code, 0, json.stderr)
    const result = JSON.parse(json.stdout) as {
      entries: Entry[]
      records: number
      deleted: number
      undecodable: number
    }
    assert.deepEqual(result.entries, lines)
    assert.deepEqual([result.records, result.deleted, result.undecodable], [log.length, 43, 0])
  })

  it('memory does not grow with keys: peak RSS at 500,000 keys within 25 % of 100,000, json and table alike', async (t) => {
    const peaks: Record<string, number> = {}
    for (const keys of [100_000, 500_000]) {
      const topic = uniqueTopic(`es-snapshots-rss-${keys}`)
      await createTopic(topic, 3, [{ name: 'cleanup.policy', value: 'compact' }])
      await produceVersions(topic, keys, 2)
      const json = await runEsMeasured(['snapshots', '--brokers', brokers, '--topic', topic, '--json'], {
        env: cleanEnv,
        timeoutMs: 300_000,
      })
      assert.equal(json.code, 0, json.stderr)
      const result = JSON.parse(json.stdout) as { entries: Entry[]; records: number }
      assert.equal(result.records, keys * 2)
      assert.equal(result.entries.length, keys)
      result.entries.forEach((entry, i) => {
        assert.equal(entry.key, keyOf(i))
        assert.deepEqual(entry.value, JSON.parse(snapshotOf(i, 2)))
      })
      const table = await runEsMeasured(['snapshots', '--brokers', brokers, '--topic', topic], {
        env: cleanEnv,
        timeoutMs: 300_000,
      })
      assert.equal(table.code, 0, table.stderr)
      assert.match(table.stderr, new RegExp(`1,000 of ${keys.toLocaleString('en-US')} keys shown`))
      peaks[`json ${keys}`] = json.peakRssMb
      peaks[`table ${keys}`] = table.peakRssMb
    }
    const summary = Object.entries(peaks)
      .map(([name, mb]) => `${name}: ${mb.toFixed(0)} MB`)
      .join(', ')
    t.diagnostic(summary)
    assert.ok(peaks['json 500000'] <= peaks['json 100000'] * 1.25, summary)
    assert.ok(peaks['table 500000'] <= peaks['table 100000'] * 1.25, summary)
  })
})
