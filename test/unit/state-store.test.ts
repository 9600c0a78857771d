/** One contract suite, run against every StateStore implementation. */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { MemoryStateStore } from '../../src/stores/memory-state-store.js'
import { SpillingStateStore } from '../../src/stores/spilling-state-store.js'
import { SqliteStateStore } from '../../src/stores/sqlite-state-store.js'
import type { CacheBound } from '../../src/stores/state-cache.js'
import type { StateStore } from '../../src/stores/state-store.js'
import { TemporaryStates } from '../../src/stores/temporary-states.js'

const identity = { reducer: 'builtin:latest', topics: ['bank.events'] }
const dirs: string[] = []
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'es-store-'))
  dirs.push(dir)
  return join(dir, 'state.db')
}

const implementations: Array<{ name: string; persistent: boolean; make: () => Promise<() => StateStore> }> = [
  {
    name: 'memory',
    persistent: false,
    make: async () => {
      const store = new MemoryStateStore()
      return () => store
    },
  },
  {
    name: 'sqlite',
    persistent: true,
    make: async () => {
      const file = await tempFile()
      return () => new SqliteStateStore(file)
    },
  },
  {
    // A cache far smaller than the aggregates: states are evicted to the file all the time.
    name: 'sqlite with a cache of 2 states',
    persistent: true,
    make: async () => {
      const file = await tempFile()
      return () => new SqliteStateStore(file, { cache: { states: 2 } })
    },
  },
  {
    // Temporary states (diff, rebuild): in memory while they fit, the file once they do not.
    name: 'spilling, within its bound',
    persistent: false,
    make: async () => {
      const store = new SpillingStateStore(await tempFile())
      return () => store
    },
  },
  {
    name: 'spilling, past a bound of 2 states',
    persistent: false,
    make: async () => {
      const store = new SpillingStateStore(await tempFile(), { cache: { states: 2 } })
      return () => store
    },
  },
]

for (const impl of implementations) {
  describe(`StateStore contract: ${impl.name}`, () => {
    it('starts empty, sets, deletes and lists in id order', async () => {
      const store = (await impl.make())()
      const opened = await store.open(identity, { fresh: false })
      assert.equal(opened.aggregates, 0)
      assert.equal(opened.offsets.size, 0)
      store.set('b', { n: 2 })
      store.set('a', { n: 1 })
      store.set('c', { n: 3 })
      store.delete('c')
      assert.equal(store.size, 2)
      assert.equal(store.has('c'), false)
      assert.deepEqual(
        [...store.entries()],
        [
          ['a', { n: 1 }],
          ['b', { n: 2 }],
        ],
      )
      await store.close()
    })

    it('keeps committed offsets across re-opening (and state, when persistent)', async () => {
      const make = await impl.make()
      const first = make()
      await first.open(identity, { fresh: false })
      first.set('acc-1', { balance: 10 })
      await first.commit(new Map([['bank.events/0', 42]]))
      first.set('acc-2', { balance: 99 }) // never committed
      await first.close()

      const second = make()
      const opened = await second.open(identity, { fresh: false })
      assert.deepEqual([...opened.offsets], [['bank.events/0', 42]])
      if (impl.persistent) {
        assert.deepEqual(second.get('acc-1'), { balance: 10 })
        assert.equal(second.has('acc-2'), false, 'uncommitted state must not survive')
      }
      await second.close()
    })

    it('keeps many more aggregates than any cache, each readable, counted and listed', async () => {
      const store = (await impl.make())()
      await store.open(identity, { fresh: true })
      for (let i = 0; i < 50; i++) store.set(`k${String(i).padStart(2, '0')}`, { n: i })
      for (let i = 0; i < 50; i += 5) store.delete(`k${String(i).padStart(2, '0')}`)
      store.set('k01', { n: 100 })
      store.prefetch?.(['k01', 'k02', 'k05', 'nope'])
      assert.equal(store.size, 40)
      assert.deepEqual(store.get('k01'), { n: 100 })
      assert.equal(store.get('k05'), undefined)
      assert.equal(store.has('nope'), false)
      const listed = [...store.entries()]
      assert.equal(listed.length, 40)
      assert.deepEqual(listed[0], ['k01', { n: 100 }])
      assert.deepEqual(listed[39], ['k49', { n: 49 }])
      await store.commit(new Map([['bank.events/0', 50]]))
      await store.close()
    })

    it('after a close without commit, holds exactly what the last commit held', async () => {
      const make = await impl.make()
      const first = make()
      await first.open(identity, { fresh: true })
      for (let i = 0; i < 10; i++) first.set(`c${i}`, { n: i })
      await first.commit(new Map([['bank.events/0', 10]]))
      // Changed and new states, many evicted into the file before any commit: none may survive.
      for (let i = 0; i < 20; i++) first.set(`c${i}`, { n: -i })
      first.delete('c3')
      await first.close()
      const second = make()
      const opened = await second.open(identity, { fresh: false })
      assert.deepEqual([...opened.offsets], [['bank.events/0', 10]])
      if (impl.persistent) {
        assert.equal(opened.aggregates, 10)
        assert.equal(second.size, 10)
        assert.deepEqual(
          [...second.entries()],
          Array.from({ length: 10 }, (_, i) => [`c${i}`, { n: i }]),
        )
      }
      await second.close()
    })

    it('discards everything when opened fresh', async () => {
      const make = await impl.make()
      const first = make()
      await first.open(identity, { fresh: false })
      first.set('acc-1', 1)
      await first.commit(new Map([['bank.events/0', 5]]))
      await first.close()
      const second = make()
      const opened = await second.open(identity, { fresh: true })
      assert.equal(opened.offsets.size, 0)
      assert.equal(second.size, 0)
      await second.close()
    })

    it('refuses state written under another identity unless fresh', async () => {
      const make = await impl.make()
      const first = make()
      await first.open(identity, { fresh: false })
      await first.commit(new Map([['bank.events/0', 1]]))
      await first.close()
      const other = make()
      await assert.rejects(
        other.open({ reducer: 'builtin:count', topics: ['bank.events'] }, { fresh: false }),
        (error: Error & { exitCode?: number }) => {
          assert.equal(error.exitCode, 3)
          assert.match(error.message, /written by/)
          return true
        },
      )
      await other.close()
      const again = make()
      await again.open({ reducer: 'builtin:count', topics: ['bank.events'] }, { fresh: true })
      await again.close()
    })
  })
}

describe('SqliteStateStore with a batch of aggregates far larger than its cache', () => {
  // A batch's aggregates stay cached (pinned) while it folds, past the bound: the changed states
  // must still be tracked at a constant cost each (a list filtered at every change once it passed
  // twice the bound made 200,000 changes take hours).
  it('changes 200,000 pinned states with a cache of 10: every one written at the commit', {
    timeout: 60_000,
  }, async () => {
    const file = await tempFile()
    const store = new SqliteStateStore(file, { cache: { states: 10 } })
    await store.open(identity, { fresh: true })
    const ids = Array.from({ length: 200_000 }, (_, i) => `acc-${String(i).padStart(6, '0')}`)
    store.prefetch?.(ids)
    for (const [i, id] of ids.entries()) store.set(id, { n: i })
    await store.commit(new Map([['bank.events/0', ids.length]]))
    await store.close()
    const reopened = new SqliteStateStore(file)
    await reopened.open(identity, { fresh: false })
    assert.equal(reopened.size, ids.length)
    assert.deepEqual(reopened.get('acc-123456'), { n: 123_456 })
    assert.deepEqual([...reopened.entries()].at(-1), ['acc-199999', { n: 199_999 }])
    await reopened.close()
  })
})

describe('SpillingStateStore', () => {
  const bounds: CacheBound[] = [{ states: 1_000 }, { states: 7 }, { bytes: 1 << 20 }]
  for (const bound of bounds) {
    it(`leaves every state in the file at close, in id order (bound ${JSON.stringify(bound)})`, async () => {
      const file = await tempFile()
      const store = new SpillingStateStore(file, { cache: bound })
      await store.open(identity, { fresh: true })
      const expected = new Map<string, unknown>()
      for (let batch = 0; batch < 10; batch++) {
        for (let i = 0; i < 30; i++) {
          const id = `acc-${String((batch * 7 + i * 13) % 100).padStart(3, '0')}`
          const state = { n: batch * 100 + i, owner: 'x'.repeat(i) }
          store.set(id, state)
          expected.set(id, state)
          if (i % 11 === 0) {
            store.delete(id)
            expected.delete(id)
          }
        }
        if (store.needsCommit()) await store.commit(new Map([['bank.events/0', batch]]))
        assert.equal(store.size, expected.size)
      }
      await store.commit(new Map([['bank.events/0', 10]]))
      assert.equal(store.spilled, 'states' in bound && bound.states < expected.size)
      await store.close()
      const reopened = new SqliteStateStore(file)
      const opened = await reopened.open(identity, { fresh: false })
      assert.deepEqual([...opened.offsets], [['bank.events/0', 10]])
      assert.deepEqual(
        [...reopened.entries()],
        [...expected].sort(([a], [b]) => (a < b ? -1 : 1)),
      )
      await reopened.close()
    })
  }
})

describe('MemoryStateStore entries', () => {
  it('come in the byte order of the ids in UTF-8, with and without ids above U+FFFF', async () => {
    const utf8Order = (ids: string[]) => [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    const ascii = Array.from({ length: 500 }, (_, i) => `acc-${(i * 7919) % 1000}`)
    const wide = [...ascii.slice(0, 50), 'z\uFFFD', 'z\u{1F600}', 'z\uE000', 'é', 'Z']
    for (const ids of [ascii, wide]) {
      const store = new MemoryStateStore()
      await store.open(identity, { fresh: true })
      for (const id of ids) store.set(id, { id })
      const entries = [...store.entries()]
      assert.deepEqual(
        entries.map(([id]) => id),
        utf8Order([...new Set(ids)]),
      )
      assert.ok(entries.every(([id, state]) => (state as { id: string }).id === id))
    }
  })
})

describe('SqliteStateStore shared by threads folding disjoint aggregates', () => {
  it('each commits its own offsets with its own states, in turn; the count is the sum; the file resumes as one', async () => {
    const file = await tempFile()
    const replay = new SqliteStateStore(file)
    await replay.open(identity, { fresh: true })
    replay.set('left-over', { stale: true }) // never committed: rolled back by the close
    await replay.close()
    // Two connections, as two worker threads have (SQLite locks the same way across threads).
    // (One thread here: caches large enough that no eviction writes before a commit.)
    const a = new SqliteStateStore(file, { shared: true })
    const b = new SqliteStateStore(file, { shared: true })
    // Not fresh: a reads the file on a cache miss.
    await a.open(identity, { fresh: false })
    await b.open(identity, { fresh: true })
    for (let i = 0; i < 10; i++) {
      a.set(`a-${i}`, { n: i })
      b.set(`b-${i}`, { n: i })
    }
    // a reads the file before b commits, then writes: no read transaction of a stays open to make
    // its commit fail (a stale snapshot cannot take the write lock).
    assert.equal(a.get('a-99'), undefined)
    await b.commit(new Map([['bank.events/1', 10]]))
    a.delete('a-9')
    await a.commit(new Map([['bank.events/0', 10]]))
    assert.equal(a.size, 9)
    // An uncommitted change of b stays out of the file (b is killed before its next commit).
    b.set('b-10', { n: 10 })
    await b.close()
    await a.close()
    const resumed = new SqliteStateStore(file)
    const opened = await resumed.open(identity, { fresh: false })
    assert.deepEqual([...opened.offsets].sort(), [
      ['bank.events/0', 10],
      ['bank.events/1', 10],
    ])
    assert.equal(opened.aggregates, 19)
    assert.equal(resumed.get('b-10'), undefined)
    assert.equal(resumed.get('left-over'), undefined)
    assert.deepEqual(resumed.get('b-3'), { n: 3 })
    assert.equal([...resumed.entries()].length, 19)
    await resumed.close()
  })

  it('refuses a file the replay did not open first, and a file of another reducer', async () => {
    const file = await tempFile()
    await assert.rejects(
      new SqliteStateStore(file, { shared: true }).open(identity, { fresh: true }),
      /not opened by the replay/,
    )
    const replay = new SqliteStateStore(file)
    await replay.open(identity, { fresh: true })
    await replay.close()
    await assert.rejects(
      new SqliteStateStore(file, { shared: true }).open({ ...identity, reducer: 'builtin:count' }, { fresh: true }),
      /written by reducer builtin:latest/,
    )
  })
})

describe('SpillingStateStore sharing one bound', () => {
  it('counts the states of every store sharing the bound: none spills while all of them fit, the one over it does', async () => {
    const shared = new Int32Array(new SharedArrayBuffer(4))
    const make = async () => {
      const store = new SpillingStateStore(await tempFile(), {
        cache: { states: 10 },
        shared,
        fileCache: { states: 5 },
      })
      await store.open(identity, { fresh: true })
      return store
    }
    const [a, b] = [await make(), await make()]
    for (let i = 0; i < 7; i++) a.set(`a${i}`, { n: i }) // more than an even split of 10
    for (let i = 0; i < 3; i++) b.set(`b${i}`, { n: i })
    b.set('b0', { n: 100 }) // a change, not a new state
    a.delete('a6')
    assert.equal(Atomics.load(shared, 0), 9)
    assert.equal(a.needsCommit() || b.needsCommit(), false)
    await a.commit(new Map())
    await b.commit(new Map())
    assert.deepEqual([a.spilled, b.spilled], [false, false])
    for (let i = 3; i < 5; i++) b.set(`b${i}`, { n: i })
    assert.equal(b.needsCommit(), true)
    await b.commit(new Map([['bank.events/1', 5]]))
    assert.deepEqual([a.spilled, b.spilled], [false, true])
    assert.equal(Atomics.load(shared, 0), 6, 'the spilled store no longer counts')
    assert.deepEqual(b.get('b0'), { n: 100 })
    assert.equal(b.size, 5)
    await a.close()
    await b.close()
  })
})

describe('TemporaryStates', () => {
  it('reads held states and spilled files as one stream in id order; states that fit never go to a file', async () => {
    const temporary = await TemporaryStates.create()
    try {
      const shared = new Int32Array(new SharedArrayBuffer(4))
      const fits = new SpillingStateStore(temporary.file('fits'), { cache: { states: 10 }, shared })
      const over = new SpillingStateStore(temporary.file('over'), { cache: { states: 10 }, shared })
      await fits.open(identity, { fresh: true })
      await over.open(identity, { fresh: true })
      for (const i of [5, 1, 3]) fits.set(`acc-${i}`, { n: i })
      for (let i = 0; i < 20; i += 2) over.set(`acc-${String(i).padStart(2, '0')}`, { n: i })
      await over.commit(new Map()) // 13 states over a bound of 10: this one spills, 3 remain in memory
      await fits.commit(new Map())
      assert.deepEqual([fits.spilled, over.spilled], [false, true])
      const held = await fits.release()
      assert.deepEqual(held, [
        ['acc-1', { n: 1 }],
        ['acc-3', { n: 3 }],
        ['acc-5', { n: 5 }],
      ])
      assert.equal(await over.release(), undefined, 'a spilled store leaves its states in its file')
      temporary.hold('fits', held!)
      const files = await readdir(temporary.dir)
      assert.deepEqual(
        files.filter((f) => f.endsWith('.db')),
        ['over.db'],
      )
      const ids = [...temporary.entries()].map(([id]) => id)
      assert.deepEqual(ids, [...ids].sort())
      assert.equal(ids.length, 13)
      assert.deepEqual(
        [...temporary.entries()].find(([id]) => id === 'acc-3'),
        ['acc-3', { n: 3 }],
      )
    } finally {
      await temporary.close()
    }
  })
})
