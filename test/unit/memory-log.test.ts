import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryLog } from '../../src/kafka/memory-log.js'
import { collect, type LogFixture, logReaderContract, positionsOf, recordsOf } from '../support/log-reader-contract.js'

function memoryFixture(log = new MemoryLog({ batchSize: 7 })): LogFixture {
  return {
    reader: log,
    createTopic: async (topic, partitions) => log.createTopic(topic, partitions),
    produce: async (topic, records) => {
      for (const { partition, ...record } of records) log.append(topic, partition, [record])
    },
    beginTransaction: async (topic, records) => {
      const transaction = log.transaction()
      for (const { partition, ...record } of records) transaction.append(topic, partition, [record])
      return { commit: async () => transaction.commit(), abort: async () => transaction.abort() }
    },
    close: () => log.close(),
  }
}

logReaderContract('MemoryLog', async () => memoryFixture())

describe('MemoryLog', () => {
  const whole = { from: { kind: 'beginning' }, until: { kind: 'end' } } as const

  it('leaves offset gaps on compaction and still reaches the end', async () => {
    const log = new MemoryLog()
    log.append('snapshots', 0, [
      { key: 'a', value: 'a1' },
      { key: 'b', value: 'b1' },
      { key: 'a', value: 'a2' },
      { key: 'b', value: null },
      { key: 'c', value: 'c1' },
      { key: 'a', value: 'a3' },
    ])
    log.compact('snapshots')
    const ranges = await log.resolveRanges(['snapshots'], whole)
    const batches = await collect(log, ranges)
    assert.deepEqual(
      recordsOf(batches).map((r) => [r.offset, r.key?.toString(), r.value?.toString() ?? null]),
      [
        [3, 'b', null],
        [4, 'c', 'c1'],
        [5, 'a', 'a3'],
      ],
    )
    assert.equal(positionsOf(batches).get('snapshots/0'), 6)
  })

  it('moves past removed records at the end of the range', async () => {
    const log = new MemoryLog()
    log.append('t', 0, [{ value: '0' }, { value: '1' }, { value: '2' }])
    log.removeOffsets('t', 0, [1, 2])
    const batches = await collect(log, await log.resolveRanges(['t'], whole))
    assert.deepEqual(
      recordsOf(batches).map((r) => r.offset),
      [0],
    )
    assert.equal(positionsOf(batches).get('t/0'), 3)
  })

  it('starts at the log start once older records are deleted', async () => {
    const log = new MemoryLog()
    log.append('t', 0, [{ value: '0' }, { value: '1' }, { value: '2' }, { value: '3' }])
    log.deleteBefore('t', 0, 2)
    assert.deepEqual(await log.watermarks('t'), [{ partition: 0, start: 2, end: 4 }])
    const ranges = await log.resolveRanges(['t'], { from: { kind: 'offset', offset: 0 }, until: { kind: 'end' } })
    assert.deepEqual(ranges, [{ topic: 't', partition: 0, start: 2, end: 4 }])
    const records = recordsOf(await collect(log, [{ topic: 't', partition: 0, start: 0, end: 4 }]))
    assert.deepEqual(
      records.map((r) => r.offset),
      [2, 3],
      'a stored position lost to retention continues at the log start',
    )
  })

  it('delivers batches of at most batchSize records', async () => {
    const log = new MemoryLog({ batchSize: 3 })
    log.append(
      't',
      0,
      Array.from({ length: 8 }, (_, i) => ({ value: String(i) })),
    )
    const batches = await collect(log, await log.resolveRanges(['t'], whole))
    assert.deepEqual(
      batches.map((b) => [b.records.length, b.position]),
      [
        [3, 3],
        [3, 6],
        [2, 8],
      ],
    )
  })
})
