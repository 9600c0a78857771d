/**
 * The bounded cache of a file-backed state store: the states used most recently, with the changes
 * not yet written to the file. When it outgrows its bound it evicts clean states not used since
 * the last eviction round (a clock / second-chance policy in the Map's insertion order). Changed
 * states stay until the store's next commit writes them all, in id order (`needsCommit` tells the
 * fold when the cache is full of them): B-tree writes in order and in bulk cost a fraction of
 * random ones. Only a cache left uncommitted at twice its bound writes changed states as it
 * evicts them — into the store's open transaction, so an eviction never commits anything.
 *
 * An entry whose `state` is `undefined` is known not to exist (looked up and absent, or deleted),
 * so a second lookup of an absent aggregate costs no query. An entry not yet `loaded` is a
 * placeholder made by `prepare` for the store to fill.
 */
import { UsageError } from '../errors.js'

/** How much the cache may hold: a number of states, or an estimate of the memory they take. */
export type CacheBound = { states: number } | { bytes: number }

/** See the README (file-backed state): ≈ 30–40 MB of heap for states of the sample bank's size. */
export const DEFAULT_CACHE: CacheBound = { states: 100_000 }

/** Heap bytes per cached state beyond its JSON text (the entry, the Map slot, the key, object headers). */
const ENTRY_OVERHEAD_BYTES = 150
/** Heap bytes per byte of a state's JSON text, roughly (objects, property slots, strings). */
const HEAP_PER_JSON_BYTE = 1.5

export interface CacheEntry {
  state: unknown
  loaded: boolean
  dirty: boolean
  /** The eviction round in which it was last used. */
  used: number
  /** The batch (`prepare` call) that last pinned it. */
  pin: number
}

/** Where a cache writes states: many at once, in id order, into the store's open transaction. */
export interface StateWriter {
  /** Writes `[id, state]` pairs (`undefined`: removed); returns the total length of the JSON written. */
  writeStates(changes: Array<[string, unknown]>): number
}

export class StateCache {
  /**
   * Whether the file may hold an aggregate (set by a store that knows, e.g. opened fresh): when
   * it certainly does not, an unknown aggregate is absent without a query.
   */
  mayBeStored: (aggregateId: string) => boolean = () => true
  private readonly entries = new Map<string, CacheEntry>()
  private round = 0
  /** Entries pinned by this batch number are never evicted (the batch being folded). */
  private batch = 0
  private pinnedCount = 0
  /** The entry `entry()` returned last (forgotten whenever entries are evicted). */
  private lastId: string | undefined
  private lastEntry: CacheEntry | undefined
  private jsonBytes = 0
  private jsonCount = 0

  constructor(
    private readonly bound: CacheBound,
    private readonly writer: StateWriter,
  ) {}

  get size(): number {
    return this.entries.size
  }

  /** The loaded entry of an aggregate (marked used), or undefined when the store must read it. */
  entry(aggregateId: string): CacheEntry | undefined {
    // A fold reads a state and then writes it back: the second lookup is the first one's entry.
    if (aggregateId === this.lastId) return this.lastEntry
    const entry = this.entries.get(aggregateId)
    if (entry === undefined) {
      if (this.mayBeStored(aggregateId)) return undefined
      return this.insert(aggregateId, { state: undefined, loaded: true, dirty: false, used: this.round, pin: 0 })
    }
    if (!entry.loaded) return undefined
    entry.used = this.round
    this.lastId = aggregateId
    this.lastEntry = entry
    return entry
  }

  /**
   * Before a batch is folded: pins the entries of its aggregates `ids` (placeholders for those not
   * cached), makes room for them by evicting others, and returns the placeholders' ids (each once)
   * for the store to `fill`. The bound may be exceeded by the batch's own aggregates.
   */
  prepare(ids: Iterable<string>): string[] {
    const batch = ++this.batch
    const missing: string[] = []
    let pinned = 0
    for (const id of ids) {
      let entry = this.entries.get(id)
      if (entry === undefined) {
        entry = { state: undefined, loaded: !this.mayBeStored(id), dirty: false, used: this.round, pin: batch }
        this.entries.set(id, entry)
        if (!entry.loaded) missing.push(id)
        pinned++
      } else if (entry.pin !== batch) {
        entry.pin = batch
        entry.used = this.round
        pinned++
      }
    }
    this.pinnedCount = pinned
    this.evictDownTo(this.capacity(), false)
    return missing
  }

  /** Full of changed states: the store should commit (after which clean ones can be evicted). */
  needsCommit(): boolean {
    return this.entries.size > this.capacity()
  }

  /** Fills an entry with what the store read (`undefined`: not in the file), as clean. */
  fill(aggregateId: string, state: unknown, jsonLength: number): CacheEntry {
    if (jsonLength > 0) this.measure(jsonLength)
    const entry = this.entries.get(aggregateId)
    if (entry !== undefined) {
      entry.state = state
      entry.loaded = true
      entry.used = this.round
      return entry
    }
    return this.insert(aggregateId, { state, loaded: true, dirty: false, used: this.round, pin: 0 })
  }

  /** Writes every changed state; they stay cached, now clean, and the cache is trimmed to its bound. */
  writeDirty(): void {
    const dirty: Array<[string, CacheEntry]> = []
    for (const pair of this.entries) if (pair[1].dirty) dirty.push(pair)
    this.flush(dirty)
    if (this.entries.size > this.capacity()) this.evictDownTo(Math.floor(this.capacity() * 0.9), false)
  }

  /** Forgets every clean entry (after `writeDirty`: all of them), keeping what the store knows of its file. */
  dropClean(): void {
    for (const [id, entry] of this.entries) if (!entry.dirty && entry.pin !== this.batch) this.entries.delete(id)
    this.lastId = undefined
    this.lastEntry = undefined
  }

  clear(): void {
    this.entries.clear()
    this.lastId = undefined
    this.lastEntry = undefined
    this.mayBeStored = () => true
    this.round = 0
    this.pinnedCount = 0
  }

  /** The most states the bound allows now (a bytes bound is converted with the sizes seen so far). */
  capacity(): number {
    return statesWithin(this.bound, this.jsonCount > 0 ? this.jsonBytes / this.jsonCount : undefined)
  }

  private insert(aggregateId: string, entry: CacheEntry): CacheEntry {
    this.entries.set(aggregateId, entry)
    const capacity = this.capacity()
    // Down to 90 %, so that eviction runs once per tenth of the cache, not on every insert.
    if (this.entries.size > capacity + this.pinnedCount) {
      this.evictDownTo(Math.floor(capacity * 0.9), this.entries.size > 2 * capacity + this.pinnedCount)
    }
    return entry
  }

  /**
   * Evicts unpinned entries, least recently used first, until at most `target` remain (or no
   * clean one is left, unless `dirtyToo`: then changed ones are written and evicted as well).
   */
  private evictDownTo(target: number, dirtyToo: boolean): void {
    if (this.entries.size <= target) return
    this.lastId = undefined
    this.lastEntry = undefined
    const current = this.round
    const batch = this.batch
    this.round++
    const victims: Array<[string, CacheEntry]> = []
    let excess = this.entries.size - target
    // Pass 1: entries not used since the last round; the others get a second chance.
    for (const pair of this.entries) {
      if (excess === 0) break
      const entry = pair[1]
      if (entry.used === current || entry.pin === batch || !entry.loaded || (entry.dirty && !dirtyToo)) continue
      victims.push(pair)
      excess--
    }
    // Pass 2 (everything was used lately): the oldest unpinned ones regardless.
    if (excess > 0) {
      const chosen = new Set(victims.map(([id]) => id))
      for (const pair of this.entries) {
        if (excess === 0) break
        const entry = pair[1]
        if (entry.pin === batch || !entry.loaded || (entry.dirty && !dirtyToo) || chosen.has(pair[0])) continue
        victims.push(pair)
        excess--
      }
    }
    this.flush(victims.filter(([, entry]) => entry.dirty))
    for (const [id] of victims) this.entries.delete(id)
  }

  /** Writes `dirty` entries in id order (B-tree inserts in order are several times faster). */
  private flush(dirty: Array<[string, CacheEntry]>): void {
    if (dirty.length === 0) return
    // The default sort compares strings natively, in code-unit order as SQLite's BINARY does;
    // a comparator function over pairs costs ≈ 5× more.
    const byId = new Map(dirty)
    const ids = [...byId.keys()].sort()
    const length = this.writer.writeStates(ids.map((id) => [id, byId.get(id)!.state]))
    for (const [, entry] of dirty) entry.dirty = false
    this.jsonBytes += length
    this.jsonCount += dirty.length
  }

  private measure(jsonLength: number): void {
    this.jsonBytes += jsonLength
    this.jsonCount++
  }
}

/** How many states a bound allows, for states whose JSON text averages `averageJson` bytes (unknown: 100). */
export function statesWithin(bound: CacheBound, averageJson = 100): number {
  if ('states' in bound) return bound.states
  return Math.max(1, Math.floor(bound.bytes / (averageJson * HEAP_PER_JSON_BYTE + ENTRY_OVERHEAD_BYTES)))
}

/**
 * `--cache`: a number of states (`50000`, `50k`, `2m`) or a memory size (`64MB`, `1GB`, `512MiB`).
 */
export function parseCacheBound(text: string): CacheBound {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = match?.[2].toLowerCase() ?? ''
  const counts: Record<string, number> = { '': 1, k: 1e3, m: 1e6 }
  const sizes: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }
  if (match && (unit in counts || unit in sizes)) {
    const value = Number(match[1])
    if (unit in counts) {
      const states = Math.round(value * counts[unit])
      if (states >= 1) return { states }
    } else {
      const bytes = Math.round(value * sizes[unit])
      if (bytes >= 1 << 20) return { bytes }
    }
  }
  throw new UsageError(
    `--cache "${text}" is not a number of states (e.g. 100000, 100k) or a memory size of at least 1 MiB (e.g. 64MB, 1GB)`,
    { code: 'USAGE' },
  )
}
