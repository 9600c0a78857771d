/**
 * `es snapshots` is honest about what it cannot decode (real binary, real broker): an undecodable
 * value says "undecodable" with the error in the table, for one key, in --history and in --json,
 * and the command exits 5 after showing everything; a record without a key is not the key "null";
 * an empty value is decoded by the codec (undecodable JSON, or the empty string), not a tombstone.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { ndjsonLines, runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { tableRows } from '../support/table.js'

const brokers = testBrokers()
const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

interface Entry {
  key: string | null
  value?: unknown
  error?: string
  raw?: string | null
  offset: number
}

interface Result {
  entries: Entry[]
  deleted: number
  undecodable: number
}

describe('es snapshots with values it cannot decode', () => {
  // Not compacted: a compacted topic refuses records without a key.
  const topic = uniqueTopic('es-snapshots-undecodable')
  // JSON values (without a config the value codec is auto, which shows text that is not JSON as text).
  const snapshots = (args: string[], codec = 'json') =>
    runEs(['snapshots', '--brokers', brokers, '--topic', topic, '--value-codec', codec, ...args], { env: cleanEnv })

  before(async () => {
    await createTopic(topic, 1)
    const producer = testKafka().producer()
    await producer.connect()
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: [
          { key: 'acc-1', value: '{"v":1}' },
          { key: 'acc-2', value: '{"broken' },
          { key: 'acc-3', value: '{"v":3}' },
          { key: 'acc-3', value: 'not json at all' },
          { key: null, value: '{"nokey":true}' },
          { key: 'null', value: '{"literal":true}' },
          { key: 'acc-empty', value: '' },
          { key: 'acc-gone', value: '{"v":9}' },
          { key: 'acc-gone', value: null },
        ],
      })
    } finally {
      await producer.disconnect()
    }
  })

  it('--json and -o ndjson: error and raw bytes instead of a value, exit 5; no key is null, not "null"', async () => {
    const json = await snapshots(['--json'])
    assert.equal(json.code, 5, json.stderr)
    const result = JSON.parse(json.stdout) as Result
    const byKey = new Map(result.entries.map((e) => [e.key, e]))
    assert.deepEqual(
      result.entries.map((e) => e.key),
      [null, 'acc-1', 'acc-2', 'acc-3', 'acc-empty', 'null'],
    )
    assert.deepEqual(byKey.get(null)!.value, { nokey: true })
    assert.deepEqual(byKey.get('null')!.value, { literal: true })
    assert.deepEqual(byKey.get('acc-1')!.value, { v: 1 })
    for (const [key, raw] of [
      ['acc-2', '{"broken'],
      ['acc-3', 'not json at all'],
      ['acc-empty', ''],
    ]) {
      const entry = byKey.get(key)!
      assert.ok(!('value' in entry), `${key} has no value`)
      assert.match(entry.error ?? '', /JSON/, key)
      assert.equal(entry.raw, raw, key)
    }
    assert.deepEqual([result.deleted, result.undecodable], [1, 3], 'an empty value is not a tombstone')
    assert.match(json.stderr, /3 values are undecodable/)

    const ndjson = await snapshots(['-o', 'ndjson'])
    assert.equal(ndjson.code, 5, ndjson.stderr)
    assert.deepEqual(ndjsonLines(ndjson.stdout), result.entries)
  })

  it('the table says undecodable with the error, and (no key) for a record without one; exit 5', async () => {
    const run = await snapshots([])
    assert.equal(run.code, 5, run.stderr)
    const rows = tableRows(run.stdout)
    assert.deepEqual(
      rows.map((row) => row.key),
      ['(no key)', 'acc-1', 'acc-2', 'acc-3', 'acc-empty', 'null'],
    )
    for (const row of rows.filter((r) => ['acc-2', 'acc-3', 'acc-empty'].includes(r.key))) {
      assert.match(Object.values(row).join(' '), /undecodable: not valid JSON/, row.key)
    }
    assert.doesNotMatch(run.stdout, /broken/, 'no garbled text as if it were a value')
    assert.match(run.stderr, /1 deleted/)
    assert.match(run.stderr, /3 undecodable/)
  })

  it('one key and --history: undecodable with the error, exit 5; a decodable key exits 0', async () => {
    const one = await snapshots(['acc-2'])
    assert.equal(one.code, 5, one.stderr)
    assert.match(one.stderr, /undecodable/)
    assert.match(one.stderr, /not valid JSON/)
    const oneJson = await snapshots(['acc-2', '--json'])
    assert.equal(oneJson.code, 5, oneJson.stderr)
    const [entry] = (JSON.parse(oneJson.stdout) as Result).entries
    assert.deepEqual([entry.key, entry.raw, 'value' in entry], ['acc-2', '{"broken', false])
    assert.match(entry.error!, /not valid JSON/)

    const history = await snapshots(['acc-3', '--history', '--json'])
    assert.equal(history.code, 5, history.stderr)
    const versions = (JSON.parse(history.stdout) as Result).entries
    assert.deepEqual(versions[0].value, { v: 3 })
    assert.match(versions[1].error!, /not valid JSON/)
    const table = await snapshots(['acc-3', '--history'])
    assert.equal(table.code, 5, table.stderr)
    const rows = tableRows(table.stdout)
    assert.equal(rows.length, 2)
    assert.match(Object.values(rows[1]).join(' '), /undecodable: not valid JSON/)

    const good = await snapshots(['acc-1'])
    assert.equal(good.code, 0, good.stderr)
    assert.deepEqual(JSON.parse(good.stdout), { v: 1 })
  })

  it('an empty value is the empty string under the string codec: a key, not a deletion', async () => {
    const run = await snapshots(['--json'], 'string')
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as Result
    const empty = result.entries.find((e) => e.key === 'acc-empty')
    assert.equal(empty?.value, '')
    assert.deepEqual([result.deleted, result.undecodable], [1, 0])
  })
})
