import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { NotFoundError } from '../../src/errors.js'
import { MemoryLog } from '../../src/kafka/memory-log.js'
import { readSnapshots, type SnapshotDecoder } from '../../src/snapshots/latest.js'

const decode: SnapshotDecoder = {
  key: (bytes) => (bytes === null ? null : bytes.toString('utf8')),
  value: (bytes) => JSON.parse(bytes.toString('utf8')),
}

/** `count` records of keys k0…k(keys−1) in turn, version = position; `extra` appended last. */
function snapshotLog(count: number, keys: number, options: { batchSize?: number } = {}) {
  const log = new MemoryLog({ batchSize: options.batchSize ?? 7 })
  log.createTopic('snaps', 2)
  log.append(
    'snaps',
    0,
    Array.from({ length: count }, (_, i) => ({
      key: `k${i % keys}`,
      value: JSON.stringify({ v: i }),
      timestamp: 1000 + i,
    })),
  )
  return log
}

const read = (log: MemoryLog, key: string, window = 5) =>
  readSnapshots({ reader: log, topics: ['snaps'], decode, key, window })

describe('es snapshots <key>: the latest version, read back from the end', () => {
  it('finds a key whose last version lies many windows back, reading only back to it', async () => {
    const log = snapshotLog(2000, 50)
    // k7's versions: 7, 57, …, 1957; then nothing of it in the last 200 records.
    log.append(
      'snaps',
      0,
      Array.from({ length: 200 }, (_, i) => ({ key: `other${i}`, value: '{}', timestamp: 5000 + i })),
    )
    const result = await read(log, 'k7')
    assert.equal(result.entries.length, 1)
    assert.deepEqual(result.entries[0].value, { v: 1957 })
    assert.equal(result.entries[0].offset, 1957)
    assert.ok(result.records < 2200, `${result.records} records read`)
    const recent = await read(log, 'other199')
    assert.deepEqual(recent.entries[0].value, {})
    assert.ok(recent.records <= 5, `the last window only: ${recent.records}`)
  })

  it('across compaction gaps and at every window boundary it gives what a full read gives', async () => {
    const log = snapshotLog(600, 13)
    log.removeOffsets('snaps', 0, [599, 598, 590, 300, 301, 302, 303, 304, 305, 306, 307, 308])
    for (const window of [1, 2, 3, 5, 8, 1000]) {
      for (let k = 0; k < 13; k++) {
        const result = await read(log, `k${k}`, window)
        const full = await read(log, `k${k}`, 1_000_000)
        assert.deepEqual(result.entries, full.entries, `k${k}, window ${window}`)
      }
    }
  })

  it('a tombstone as the last version is a deleted key; a key never written is read to the start', async () => {
    const log = snapshotLog(400, 10)
    log.append('snaps', 0, [{ key: 'k3', value: null, timestamp: 9000 }])
    log.append(
      'snaps',
      0,
      Array.from({ length: 100 }, (_, i) => ({ key: `x${i}`, value: '{}', timestamp: 9001 + i })),
    )
    await assert.rejects(read(log, 'k3'), (error: Error) => {
      assert.ok(error instanceof NotFoundError)
      assert.match(error.message, /key "k3" was deleted/)
      return true
    })
    await assert.rejects(read(log, 'never'), /no snapshot for key "never"/)
  })

  it('a key in two partitions (the partitioner changed): the newer record wins', async () => {
    const log = snapshotLog(100, 10)
    log.append('snaps', 1, [{ key: 'k4', value: JSON.stringify({ v: 'moved' }), timestamp: 50_000 }])
    assert.deepEqual((await read(log, 'k4')).entries[0].value, { v: 'moved' })
    log.append('snaps', 0, [{ key: 'k4', value: JSON.stringify({ v: 'back' }), timestamp: 60_000 }])
    assert.deepEqual((await read(log, 'k4')).entries[0].value, { v: 'back' })
  })
})
