import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { KafkaRecord } from '../../src/kafka/record.js'
import { type FoldBatch, fold } from '../../src/replay/fold.js'
import { loadReducer, type ReducerEvent } from '../../src/replay/reducer.js'
import { MemoryStateStore } from '../../src/stores/memory-state-store.js'

function record(partition: number, offset: number, value: unknown, key = 'acc-1'): KafkaRecord {
  return {
    topic: 't',
    partition,
    offset,
    timestamp: 1_700_000_000_000 + offset,
    key: Buffer.from(key),
    value: value === undefined ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
  }
}

/** A minimal JSON decoder standing in for the envelope layer. */
function decode(r: KafkaRecord): ReducerEvent {
  const value = JSON.parse(r.value!.toString('utf8'))
  return {
    type: value.type,
    aggregateId: r.key?.toString('utf8'),
    id: value.id,
    version: value.version,
    timestamp: r.timestamp,
    payload: value.data,
    headers: {},
    key: r.key?.toString('utf8'),
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
  }
}

async function* batches(list: FoldBatch[]): AsyncIterable<FoldBatch> {
  for (const b of list) yield b
}

describe('built-in reducers', () => {
  const event = (type: string, payload: unknown): ReducerEvent => ({
    type,
    payload,
    timestamp: 0,
    headers: {},
    key: 'k',
    topic: 't',
    partition: 0,
    offset: 0,
  })

  it('latest keeps the last payload; merge merges and null deletes a field', async () => {
    const latest = await loadReducer('latest')
    assert.deepEqual(latest.evolve(latest.initialState('k'), event('A', { a: 1 })), { a: 1 })
    const merge = await loadReducer('merge')
    let state = merge.initialState('k')
    state = merge.evolve(state, event('A', { a: 1, b: 2 }))
    state = merge.evolve(state, event('B', { b: null, c: 3 }))
    assert.deepEqual(state, { a: 1, c: 3 })
  })

  it('count counts per type; collect keeps every event in order', async () => {
    const count = await loadReducer('count')
    let counts = count.initialState('k')
    for (const type of ['A', 'B', 'A']) counts = count.evolve(counts, event(type, {}))
    assert.deepEqual(counts, { A: 2, B: 1 })
    const collect = await loadReducer('collect')
    let all = collect.initialState('k')
    all = collect.evolve(all, event('A', 1))
    all = collect.evolve(all, event('B', 2))
    assert.deepEqual(
      (all as Array<{ type: string }>).map((e) => e.type),
      ['A', 'B'],
    )
  })

  it('loads JS and TS reducer modules and refuses unknown names with a suggestion', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-reducer-'))
    try {
      await writeFile(
        join(dir, 'r.js'),
        'export const initialState = () => 0\nexport const evolve = (s, e) => s + e.payload\n',
      )
      await writeFile(
        join(dir, 'r.ts'),
        'export function initialState(_: string): number { return 10 }\nexport function evolve(s: number, e: { payload: number }): number { return s * e.payload }\n',
      )
      const js = await loadReducer(join(dir, 'r.js'))
      assert.equal(js.evolve(js.initialState('x'), event('A', 5)), 5)
      const ts = await loadReducer(join(dir, 'r.ts'))
      assert.equal(ts.evolve(ts.initialState('x'), event('A', 3)), 30)
      await assert.rejects(loadReducer('lates'), (error: Error & { suggestion?: string; exitCode?: number }) => {
        assert.equal(error.exitCode, 3)
        assert.match(error.suggestion ?? '', /did you mean latest/)
        return true
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('fold', () => {
  const sum = {
    name: 'sum',
    identity: 'test:sum',
    initialState: () => ({ balance: 0 }),
    evolve: (state: unknown, e: ReducerEvent) =>
      e.type === 'Closed'
        ? null
        : { balance: (state as { balance: number }).balance + (e.payload as { amount: number }).amount },
  }

  it('folds per aggregate, deletes on null, and records positions', async () => {
    const store = new MemoryStateStore()
    await store.open({ reducer: 'test:sum', topics: ['t'] }, { fresh: true })
    const result = await fold({
      batches: batches([
        {
          topic: 't',
          partition: 0,
          position: 3,
          records: [
            record(0, 0, { type: 'Dep', data: { amount: 5 } }),
            record(0, 1, { type: 'Dep', data: { amount: 7 } }, 'acc-2'),
            record(0, 2, { type: 'Dep', data: { amount: 1 } }),
          ],
        },
        // Position past a transaction marker at offset 4: committed position is 5, not 4.
        { topic: 't', partition: 1, position: 5, records: [record(1, 3, { type: 'Closed', data: {} }, 'acc-3')] },
      ]),
      total: 4,
      startOffsets: new Map([
        ['t/0', 0],
        ['t/1', 0],
        ['t/2', 7],
      ]),
      decode,
      reducer: sum,
      store,
      onError: 'fail',
    })
    assert.equal(result.events, 4)
    assert.deepEqual(
      [...store.entries()],
      [
        ['acc-1', { balance: 6 }],
        ['acc-2', { balance: 7 }],
      ],
    )
    assert.deepEqual(Object.fromEntries(result.offsets), { 't/0': 3, 't/1': 5, 't/2': 7 })
  })

  it('under --on-error fail stops at the undecodable record, naming topic/partition/offset (exit 5)', async () => {
    const store = new MemoryStateStore()
    await store.open({ reducer: 'test:sum', topics: ['t'] }, { fresh: true })
    await assert.rejects(
      fold({
        batches: batches([
          {
            topic: 't',
            partition: 0,
            position: 2,
            records: [record(0, 0, { type: 'Dep', data: { amount: 1 } }), record(0, 1, '{not json')],
          },
        ]),
        total: 2,
        startOffsets: new Map(),
        decode,
        reducer: sum,
        store,
        onError: 'fail',
      }),
      (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 5)
        assert.match(error.message, /t\/0@1/)
        return true
      },
    )
  })

  it('under --on-error skip counts and lists skipped records and goes on', async () => {
    const store = new MemoryStateStore()
    await store.open({ reducer: 'test:sum', topics: ['t'] }, { fresh: true })
    const result = await fold({
      batches: batches([
        {
          topic: 't',
          partition: 0,
          position: 3,
          records: [
            record(0, 0, '{not json'),
            record(0, 1, { type: 'Dep', data: { amount: 2 } }),
            record(0, 2, undefined),
          ],
        },
      ]),
      total: 3,
      startOffsets: new Map(),
      decode: (r) => {
        if (r.value === null) throw new Error('null value')
        return decode(r)
      },
      reducer: sum,
      store,
      onError: 'skip',
    })
    assert.equal(result.events, 1)
    assert.equal(result.skippedCount, 2)
    assert.deepEqual(
      result.skipped.map((s) => s.offset),
      [0, 2],
    )
    assert.deepEqual(store.get('acc-1'), { balance: 2 })
  })

  it('names the event and the reducer when the reducer throws', async () => {
    const store = new MemoryStateStore()
    await store.open({ reducer: 'test:sum', topics: ['t'] }, { fresh: true })
    await assert.rejects(
      fold({
        batches: batches([
          { topic: 't', partition: 0, position: 1, records: [record(0, 0, { type: 'Dep', data: null })] },
        ]),
        total: 1,
        startOffsets: new Map(),
        decode,
        reducer: sum,
        reducerLabel: 'reducers/sum.js',
        store,
        onError: 'skip',
      }),
      (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 5)
        assert.match(error.message, /reducer reducers\/sum\.js threw on Dep at t\/0@0/)
        return true
      },
    )
  })

  it('traces one aggregate: each event and the state after it', async () => {
    const store = new MemoryStateStore()
    await store.open({ reducer: 'test:sum', topics: ['t'] }, { fresh: true })
    const trace: Array<[number, unknown]> = []
    await fold({
      batches: batches([
        {
          topic: 't',
          partition: 0,
          position: 3,
          records: [
            record(0, 0, { type: 'Dep', data: { amount: 5 } }),
            record(0, 1, { type: 'Dep', data: { amount: 7 } }, 'acc-2'),
            record(0, 2, { type: 'Dep', data: { amount: 1 } }),
          ],
        },
      ]),
      total: 3,
      startOffsets: new Map(),
      decode,
      reducer: sum,
      store,
      onError: 'fail',
      aggregate: 'acc-1',
      onTrace: (event, state) => trace.push([event.offset, state]),
    })
    assert.deepEqual(trace, [
      [0, { balance: 5 }],
      [2, { balance: 6 }],
    ])
    assert.equal(store.has('acc-2'), false)
  })

  it('folds each event as it is decoded, unless the store prefetches: then the whole batch is decoded first', async () => {
    const records = [
      record(0, 0, { type: 'Dep', data: { amount: 5 } }),
      record(0, 1, { type: 'Dep', data: { amount: 7 } }, 'acc-2'),
      record(0, 2, { type: 'Dep', data: { amount: 1 } }),
    ]
    const run = async (store: MemoryStateStore) => {
      const steps: string[] = []
      await store.open({ reducer: 'test:sum', topics: ['t'] }, { fresh: true })
      await fold({
        batches: batches([{ topic: 't', partition: 0, position: 3, records }]),
        total: 3,
        startOffsets: new Map(),
        decode: (r) => {
          steps.push(`decode ${r.offset}`)
          return decode(r)
        },
        reducer: {
          ...sum,
          evolve: (state, e) => {
            steps.push(`evolve ${e.offset}`)
            return sum.evolve(state, e)
          },
        },
        store,
        onError: 'fail',
      })
      return { steps, states: [...store.entries()] }
    }
    // Decoded events die young: no batch of them is alive at once (a scavenge copies what is).
    const plain = await run(new MemoryStateStore())
    assert.deepEqual(plain.steps, ['decode 0', 'evolve 0', 'decode 1', 'evolve 1', 'decode 2', 'evolve 2'])
    const prefetched: string[][] = []
    const prefetching = Object.assign(new MemoryStateStore(), {
      prefetch: (ids: Iterable<string>) => {
        prefetched.push([...ids])
      },
    })
    const batched = await run(prefetching)
    assert.deepEqual(batched.steps, ['decode 0', 'decode 1', 'decode 2', 'evolve 0', 'evolve 1', 'evolve 2'])
    assert.deepEqual(prefetched, [['acc-1', 'acc-2', 'acc-1']])
    assert.deepEqual(batched.states, plain.states)
  })

  it('a store that prefetches gets the ids of at most 1,024 decoded events at a time, however large the batch', async () => {
    const records = Array.from({ length: 2500 }, (_, i) =>
      record(0, i, { type: 'Dep', data: { amount: i } }, `acc-${i % 7}`),
    )
    const prefetched: number[] = []
    const store = Object.assign(new MemoryStateStore(), {
      prefetch: (ids: Iterable<string>) => {
        prefetched.push([...ids].length)
      },
    })
    await store.open({ reducer: 'test:sum', topics: ['t'] }, { fresh: true })
    const result = await fold({
      batches: batches([{ topic: 't', partition: 0, position: 2500, records }]),
      total: 2500,
      startOffsets: new Map(),
      decode,
      reducer: sum,
      store,
      onError: 'fail',
    })
    assert.deepEqual(prefetched, [1024, 1024, 452])
    assert.equal(result.events, 2500)
    const expected = (k: number) => records.reduce((n, _, i) => (i % 7 === k ? n + i : n), 0)
    assert.deepEqual(store.get('acc-3'), { balance: expected(3) })
  })
})
