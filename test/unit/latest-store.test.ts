/**
 * The bounded latest-per-key store of `es snapshots`: whatever the bound (everything in memory,
 * or spilled to many sorted runs), it gives exactly the last record of each key, in key byte
 * order, tombstones and empty values kept apart, the record without a key first.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { KafkaRecord } from '../../src/kafka/record.js'
import { LatestStore, type StoredRecord } from '../../src/snapshots/latest-store.js'
import { seededRandom } from '../support/seeded-random.js'

function records(seed: number, count: number): KafkaRecord[] {
  const random = seededRandom(seed)
  const out: KafkaRecord[] = []
  for (let offset = 0; offset < count; offset++) {
    const roll = random()
    // Binary keys too (bytes ≥ 0x80 and 0x00), so order is by bytes, not by text.
    const key =
      roll < 0.02
        ? null
        : Buffer.from([Math.floor(random() * 256), Math.floor(random() * 40), Math.floor(random() * 3)])
    const kind = random()
    const value =
      kind < 0.1
        ? null
        : kind < 0.15
          ? Buffer.alloc(0)
          : Buffer.from(`v${offset}`.repeat(1 + Math.floor(random() * 20)))
    out.push({ topic: 't', partition: offset % 3, offset, timestamp: 1_000 + offset, key, value, headers: {} })
  }
  return out
}

function expected(log: KafkaRecord[]): StoredRecord[] {
  const last = new Map<string, KafkaRecord>()
  for (const record of log) last.set(record.key === null ? '' : `k${record.key.toString('hex')}`, record)
  return [...last.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => ({
      key: r.key,
      value: r.value,
      topic: 0,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
    }))
}

describe('LatestStore', () => {
  for (const bound of [1 << 30, 50_000, 2_000]) {
    it(`keeps the last record per key in key order with a memory bound of ${bound} bytes`, () => {
      const log = records(bound, 10_000)
      const store = new LatestStore({ memoryBound: bound })
      try {
        for (const record of log) store.put(record, 0)
        if (bound < 1 << 30) assert.ok(store.spilledRuns > 5, `${store.spilledRuns} runs`)
        else assert.equal(store.spilledRuns, 0)
        const got = [...store.entries()]
        assert.deepEqual(got, expected(log))
        assert.ok(
          got.some((r) => r.value !== null && r.value.length === 0),
          'an empty value is kept as a value',
        )
        assert.ok(
          got.some((r) => r.value === null),
          'tombstones are kept',
        )
        assert.equal(got[0].key, null, 'the record without a key first')
      } finally {
        store.close()
      }
    })
  }
})
