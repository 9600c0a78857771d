import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { KafkaRecord } from '../../src/kafka/record.js'
import { type FoldBatch, fold } from '../../src/replay/fold.js'
import {
  canonicalKey,
  chooseBoundaries,
  compareBytes,
  decodeRecords,
  encodeRecord,
  RecordSpill,
  rangeOf,
} from '../../src/replay/record-spill.js'
import type { Reducer, ReducerEvent } from '../../src/replay/reducer.js'
import { MemoryStateStore } from '../../src/stores/memory-state-store.js'
import { SqliteStateStore } from '../../src/stores/sqlite-state-store.js'

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'es-rounds-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

function record(partition: number, offset: number, key: string | null, value: unknown): KafkaRecord {
  return {
    topic: 't',
    partition,
    offset,
    timestamp: 1_700_000_000_000 + offset,
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(JSON.stringify(value)),
    headers: {},
  }
}

/** A pseudo-random sequence (the same each run). */
function random(seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31
    return x / 2 ** 31
  }
}

describe('record spill (the records of a fold in rounds, by key range)', () => {
  it('writes and reads back a record as the reader shapes it: null key and value, repeated and null headers', () => {
    const withHeaders: KafkaRecord = {
      topic: 't',
      partition: 3,
      offset: 2 ** 40 + 7,
      timestamp: 1_733_000_000_123,
      key: Buffer.from('clé'),
      value: Buffer.from([0, 1, 2, 255]),
      headers: { type: Buffer.from('B'), empty: undefined },
      headerList: [
        ['type', Buffer.from('A')],
        ['empty', null],
        ['type', Buffer.from('B')],
      ],
    }
    const bare: KafkaRecord = { topic: 't', partition: 0, offset: 0, timestamp: 0, key: null, value: null, headers: {} }
    const fromObject: KafkaRecord = { ...bare, offset: 1, headers: { 'content-type': 'application/json' } }
    const out = Buffer.alloc(1024)
    let end = 0
    for (const r of [withHeaders, bare, fromObject]) end = encodeRecord(r, out, end)
    const read: KafkaRecord[] = []
    assert.equal(decodeRecords(out.subarray(0, end), 't', 0, 10, read), end)
    assert.equal(read.length, 3)
    assert.deepEqual(read[0], withHeaders)
    assert.deepEqual({ ...read[1], headers: { ...read[1].headers } }, bare)
    assert.equal(read[1].headerList, undefined)
    assert.deepEqual(read[2].headers, { 'content-type': Buffer.from('application/json') })
    assert.deepEqual(read[2].headerList, [['content-type', Buffer.from('application/json')]])
  })

  it('ranges split sampled keys evenly, in byte order, and every key falls in exactly one', () => {
    const next = random(7)
    const keys = Array.from({ length: 5000 }, () => Buffer.from(`acc-${Math.floor(next() * 100_000)}`))
    const boundaries = chooseBoundaries(keys, 10)
    assert.equal(boundaries.length, 9)
    for (let i = 1; i < boundaries.length; i++) assert.ok(compareBytes(boundaries[i - 1], boundaries[i]) < 0)
    const counts = new Array(10).fill(0)
    for (const key of keys) {
      const range = rangeOf(key, boundaries)
      counts[range]++
      if (range > 0) assert.ok(compareBytes(boundaries[range - 1], key) <= 0)
      if (range < boundaries.length) assert.ok(compareBytes(key, boundaries[range]) < 0)
    }
    for (const count of counts) assert.ok(count > 300 && count < 700, `range sizes ${counts}`)
    // One hot key: equal boundaries merge, nothing empty in front.
    assert.deepEqual(chooseBoundaries([Buffer.from('a'), Buffer.from('a'), Buffer.from('a')], 3), [])
    for (const [a, b] of [
      ['a', 'b'],
      ['ab', 'a'],
      ['', 'a'],
      ['é', 'z'],
    ]) {
      assert.equal(
        Math.sign(compareBytes(Buffer.from(a), Buffer.from(b))),
        Buffer.compare(Buffer.from(a), Buffer.from(b)),
      )
    }
  })

  it('gives back every record once, a key’s records in the order added, range by range, and leaves nothing behind', async () => {
    const spillDir = join(dir, 'spill-order')
    const spill = new RecordSpill(spillDir, 't')
    const next = random(11)
    for (const round of [0, 1]) {
      spill.begin({ ranges: 8, sample: 300 })
      const added: KafkaRecord[] = []
      for (let i = 0; i < 2000; i++) {
        const r = record(i % 3, round * 10_000 + i, next() < 0.01 ? null : `k${Math.floor(next() * 500)}`, { i })
        added.push(r)
        spill.add(r)
      }
      const seen: KafkaRecord[] = []
      let ranges = 0
      let last: Buffer | null = null
      for (const range of spill.drain(64)) {
        ranges++
        const inRange: KafkaRecord[] = []
        for (const chunk of range) {
          assert.ok(chunk.length <= 64)
          inRange.push(...chunk)
        }
        // Ranges come in key order: the smallest key of this one is past the largest of the last.
        const keys = inRange.map((r) => r.key).filter((k): k is Buffer => k !== null)
        keys.sort(compareBytes)
        if (last !== null && keys.length > 0) assert.ok(compareBytes(last, keys[0]) < 0)
        if (keys.length > 0) last = keys[keys.length - 1]
        seen.push(...inRange)
      }
      assert.ok(ranges >= 6, `${ranges} ranges`)
      assert.equal(seen.length, added.length)
      const byKey = (list: KafkaRecord[]) => {
        const map = new Map<string, number[]>()
        for (const r of list) {
          const key = r.key === null ? '(null)' : r.key.toString()
          map.set(key, [...(map.get(key) ?? []), r.offset])
        }
        return map
      }
      assert.deepEqual(byKey(seen), byKey(added))
      assert.deepEqual(
        seen.map((r) => JSON.parse(r.value!.toString()).i).sort((a, b) => a - b),
        added.map((_, i) => i),
      )
      assert.deepEqual(await readdir(spillDir), [], 'each range file is removed once read')
    }
    spill.close()
    assert.equal(existsSync(spillDir), false)
  })
})

describe('fold in rounds (a state file whose aggregates outgrow its cache)', () => {
  /** State: the events seen in order; throws when one comes out of order (so order is checked). */
  const sequence: Reducer = {
    name: 'sequence',
    identity: 'test:sequence',
    initialState: () => ({ n: 0, sum: 0 }),
    evolve: (state: unknown, e: ReducerEvent) => {
      const s = state as { n: number; sum: number }
      const payload = e.payload as { n: number; amount: number }
      if (payload.n !== s.n + 1) throw new Error(`event ${payload.n} after ${s.n} for ${e.aggregateId}`)
      return { n: payload.n, sum: s.sum + payload.amount }
    },
  }
  const decode = (r: KafkaRecord): ReducerEvent => {
    const value = JSON.parse(r.value!.toString())
    return {
      type: 'E',
      aggregateId: r.key?.toString(),
      payload: value,
      timestamp: r.timestamp,
      headers: {},
      key: r.key?.toString(),
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
    }
  }

  /** `aggregates` × `each` events over 3 partitions (an aggregate in one), shuffled across aggregates. */
  function log(aggregates: number, each: number): FoldBatch[] {
    const next = random(3)
    const pending = Array.from({ length: aggregates }, (_, a) => ({ a, n: 0 }))
    const partitions: KafkaRecord[][] = [[], [], []]
    while (pending.length > 0) {
      const at = Math.floor(next() * pending.length)
      const p = pending[at]
      p.n++
      const partition = p.a % 3
      const records = partitions[partition]
      records.push(record(partition, records.length, `acc-${p.a}`, { n: p.n, amount: p.a + p.n }))
      if (p.n === each) pending.splice(at, 1)
    }
    const batches: FoldBatch[] = []
    for (let start = 0; start < Math.max(...partitions.map((r) => r.length)); start += 500) {
      partitions.forEach((records, partition) => {
        const slice = records.slice(start, start + 500)
        if (slice.length > 0) batches.push({ topic: 't', partition, records: slice, position: start + slice.length })
      })
    }
    return batches
  }

  async function* iterate(list: FoldBatch[]): AsyncIterable<FoldBatch> {
    for (const b of list) yield b
  }

  /** The oracle: the same batches folded in memory, in log order. */
  async function foldInMemory(batches: FoldBatch[]): Promise<MemoryStateStore> {
    const memory = new MemoryStateStore()
    await memory.open({ reducer: sequence.identity, topics: ['t'] }, { fresh: true })
    await fold({
      batches: iterate(batches),
      total: batches.reduce((sum, b) => sum + b.records.length, 0),
      startOffsets: new Map(),
      decode,
      reducer: sequence,
      store: memory,
      onError: 'fail',
    })
    return memory
  }

  /** A state file counting the states it writes. */
  class CountingStore extends SqliteStateStore {
    statesWritten = 0
    override writeStates(changes: Array<[string, unknown]>): number {
      this.statesWritten += changes.length
      return super.writeStates(changes)
    }
  }

  it('ends in the in-memory fold’s state, writing each state about once a round instead of once an event', async () => {
    const batches = log(1000, 40)
    const events = batches.reduce((sum, b) => sum + b.records.length, 0)
    const total = events
    const memory = await foldInMemory(batches)

    const file = join(dir, 'rounds.db')
    const store = new CountingStore(file, { cache: { states: 50 } })
    await store.open({ reducer: sequence.identity, topics: ['t'] }, { fresh: true })
    const spillDir = `${file}.rounds-test`
    const result = await fold({
      batches: iterate(batches),
      total,
      startOffsets: new Map(),
      decode,
      reducer: sequence,
      store,
      onError: 'fail',
      rounds: { dir: spillDir, topic: 't', capacity: () => store.cacheCapacity() },
    })
    assert.equal(result.events, events)
    assert.deepEqual([...store.entries()], [...memory.entries()])
    assert.equal(store.size, 1000)
    // Rounds of 500, 1,000, 2,000 … events: each writes the states it touched, once.
    assert.ok(store.statesWritten < 0.25 * events, `${store.statesWritten} states written for ${events} events`)
    assert.equal(existsSync(spillDir), false, 'the spill directory is removed')
    await store.close()

    // What was committed is the whole fold, offsets included.
    const reopened = new SqliteStateStore(file)
    const opened = await reopened.open({ reducer: sequence.identity, topics: ['t'] }, { fresh: false })
    assert.deepEqual(Object.fromEntries(opened.offsets), Object.fromEntries(result.offsets))
    assert.deepEqual([...reopened.entries()], [...memory.entries()])
    await reopened.close()
  })

  it('a reducer failing mid-round leaves the file as the last round committed it', async () => {
    const batches = log(300, 20)
    const total = batches.reduce((sum, b) => sum + b.records.length, 0)
    let folded = 0
    const failing: Reducer = {
      ...sequence,
      evolve: (state, e) => {
        if (++folded === 4000) throw new Error('boom')
        return sequence.evolve(state, e)
      },
    }
    const file = join(dir, 'failing.db')
    const store = new SqliteStateStore(file, { cache: { states: 30 } })
    await store.open({ reducer: sequence.identity, topics: ['t'] }, { fresh: true })
    await assert.rejects(
      fold({
        batches: iterate(batches),
        total,
        startOffsets: new Map(),
        decode,
        reducer: failing,
        store,
        onError: 'fail',
        rounds: { dir: `${file}.rounds-test`, topic: 't', capacity: () => store.cacheCapacity() },
      }),
      /threw on E at t\/\d@\d+: boom/,
    )
    await store.close()
    assert.equal(existsSync(`${file}.rounds-test`), false)
    // A consistent cut: replaying the rest from the stored offsets gives the whole fold.
    const resumed = new SqliteStateStore(file, { cache: { states: 30 } })
    const opened = await resumed.open({ reducer: sequence.identity, topics: ['t'] }, { fresh: false })
    const stored = [...opened.offsets.values()].reduce((a, b) => a + b, 0)
    assert.ok(stored > 0 && stored < 4000, `committed ${stored} events before the failure`)
    const rest = batches
      .map((b) => ({
        ...b,
        records: b.records.filter((r) => r.offset >= (opened.offsets.get(`t/${b.partition}`) ?? 0)),
      }))
      .filter((b) => b.records.length > 0)
    await fold({
      batches: iterate(rest),
      total: total - stored,
      startOffsets: opened.offsets,
      decode,
      reducer: sequence,
      store: resumed,
      onError: 'fail',
      rounds: { dir: `${file}.rounds-test`, topic: 't', capacity: () => resumed.cacheCapacity() },
    })
    const memory = await foldInMemory(batches)
    assert.deepEqual([...resumed.entries()], [...memory.entries()])
    await resumed.close()
  })
  it('splits a range that outgrew its share (keys that grow with time, sampled early), and never a single key', () => {
    const spillDir = join(dir, 'spill-skew')
    const spill = new RecordSpill(spillDir, 't')
    spill.begin({ ranges: 8, sample: 300 })
    // New aggregates over time: the first 300 keys are all below the next 4,700, which would land
    // in the last range; and one key with 1,000 records that no split can divide.
    const added: KafkaRecord[] = []
    for (let i = 0; i < 5000; i++) added.push(record(0, i, `k${String(i).padStart(5, '0')}`, { i }))
    for (let i = 0; i < 1000; i++) added.push(record(1, i, 'k99999', { i: 5000 + i }))
    for (const r of added) spill.add(r)
    const seen: KafkaRecord[] = []
    const sizes: number[] = []
    let ofOneKey = 0
    for (const range of spill.drain(64, 500)) {
      let size = 0
      let one = 0
      for (const chunk of range) {
        size += chunk.length
        one += chunk.filter((r) => r.key?.toString() === 'k99999').length
        seen.push(...chunk)
      }
      // Only the range of the one key may stay over the limit, and it holds all of its records.
      if (one > 0) {
        assert.equal(one, 1000)
        ofOneKey++
      } else assert.ok(size <= 500, `records per range: ${[...sizes, size].join(', ')}`)
      sizes.push(size)
    }
    assert.equal(ofOneKey, 1)
    assert.deepEqual(
      seen.map((r) => JSON.parse(r.value!.toString()).i),
      added.map((_, i) => i),
      "every record once, ranges in key order, a key's records in order",
    )
    spill.close()
  })
  it('reads a range file back in blocks: records across block ends, and one larger than a block', () => {
    const spill = new RecordSpill(join(dir, 'spill-blocks'), 't')
    spill.begin({ ranges: 1, sample: 10 })
    const added: KafkaRecord[] = []
    for (let i = 0; i < 3000; i++) {
      const value = i === 1500 ? 'v'.repeat(3 * 1024 * 1024) : `${i}:${'x'.repeat(1000 + (i % 7))}`
      added.push({ ...record(0, i, `k${i % 10}`, {}), value: Buffer.from(value) })
    }
    for (const r of added) spill.add(r)
    const seen: KafkaRecord[] = []
    for (const range of spill.drain(100)) for (const chunk of range) seen.push(...chunk)
    assert.equal(seen.length, added.length)
    const sameKeyOrder = (list: KafkaRecord[]) =>
      list
        .map((r) => `${r.key?.toString()}@${r.offset}:${r.value?.length}:${r.value?.subarray(0, 8).toString()}`)
        .sort()
    assert.deepEqual(sameKeyOrder(seen), sameKeyOrder(added))
    assert.ok(seen.some((r) => r.value?.length === 3 * 1024 * 1024 && r.value.every((b) => b === 0x76)))
    spill.close()
  })
  it('ranges keys by the aggregate id they are read as: keys that read as one id (U+FFFD) share a range, in order', () => {
    // An invalid byte reads as U+FFFD, as do the bytes of U+FFFD itself: one aggregate id.
    const replaced = Buffer.from('k\uFFFD')
    const invalid = Buffer.from([0x6b, 0xff])
    assert.deepEqual(canonicalKey(invalid), replaced)
    const ascii = Buffer.from('acc-1')
    assert.equal(canonicalKey(ascii), ascii, 'ASCII keys as they are')
    const spill = new RecordSpill(join(dir, 'spill-utf8'), 't')
    spill.begin({ ranges: 4, sample: 4 })
    const keyed = (key: Buffer, i: number): KafkaRecord => ({ ...record(0, i, null, { i }), key })
    // In byte order a boundary would fall between the two spellings of "k\uFFFD".
    const added = [keyed(Buffer.from('a'), 0), keyed(invalid, 1), keyed(replaced, 2), keyed(Buffer.from('z'), 3)]
    for (const r of added) spill.add(r)
    const ranges: number[][] = []
    for (const range of spill.drain(64)) {
      const offsets: number[] = []
      for (const chunk of range) offsets.push(...chunk.map((r) => r.offset))
      ranges.push(offsets)
    }
    assert.ok(
      ranges.some((offsets) => offsets.join() === '1,2'),
      `the two spellings in one range, in order: ${JSON.stringify(ranges)}`,
    )
    spill.close()
  })
})
