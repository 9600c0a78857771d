import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeFetchResponse } from '../../src/kafka/fetch-response.js'

/** A Fetch response body (after the correlation id), written field by field as the protocol guide lists them. */
function fetchResponse(
  version: number,
  partitions: Array<{ topic: string; partition: number; records: Buffer }>,
): Buffer {
  const parts: Buffer[] = []
  const int16 = (v: number) => {
    const b = Buffer.alloc(2)
    b.writeInt16BE(v)
    parts.push(b)
  }
  const int32 = (v: number) => {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    parts.push(b)
  }
  const int64 = (v: bigint) => {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(v)
    parts.push(b)
  }
  int32(25) // throttle time
  if (version >= 7) {
    int16(0)
    int32(0)
  }
  const topics = [...new Set(partitions.map((p) => p.topic))]
  int32(topics.length)
  for (const topic of topics) {
    int16(Buffer.byteLength(topic))
    parts.push(Buffer.from(topic))
    const mine = partitions.filter((p) => p.topic === topic)
    int32(mine.length)
    for (const p of mine) {
      int32(p.partition)
      int16(p.partition === 9 ? 6 : 0) // NOT_LEADER_OR_FOLLOWER for partition 9
      int64(100n) // high watermark
      int64(90n) // last stable offset
      if (version >= 5) int64(3n) // log start offset
      int32(1)
      int64(4242n) // aborted: producer id
      int64(80n) // aborted: first offset
      if (version >= 11) int32(-1) // preferred read replica
      if (p.records.length === 0 && p.partition === 9) int32(-1)
      else {
        int32(p.records.length)
        parts.push(p.records)
      }
    }
  }
  return Buffer.concat(parts)
}

describe('fetch response decoding', () => {
  for (const version of [4, 5, 7, 11]) {
    it(`decodes v${version} framing and keeps each record set as a view`, () => {
      const payload = fetchResponse(version, [
        { topic: 'orders', partition: 0, records: Buffer.from('records of orders/0') },
        { topic: 'orders', partition: 9, records: Buffer.alloc(0) },
        { topic: 'bänk', partition: 2, records: Buffer.from('records of bänk/2') },
      ])
      const response = decodeFetchResponse(payload, version)
      assert.equal(response.throttleTimeMs, 25)
      assert.equal(response.errorCode, 0)
      assert.deepEqual(
        response.partitions.map((p) => ({ ...p, records: p.records.toString() })),
        [
          ['orders', 0, 0, 'records of orders/0'],
          ['orders', 9, 6, ''],
          ['bänk', 2, 0, 'records of bänk/2'],
        ].map(([topic, partition, errorCode, records]) => ({
          topic,
          partition,
          errorCode,
          highWatermark: 100,
          lastStableOffset: 90,
          logStartOffset: version >= 5 ? 3 : -1,
          abortedTransactions: [{ producerId: 4242n, firstOffset: 80 }],
          records,
        })),
      )
      assert.equal(response.partitions[0].records.buffer, payload.buffer, 'no copy of the records')
    })
  }
})
