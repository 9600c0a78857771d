/**
 * States nobody keeps (the fold of `es diff` and `es rebuild-projection` without `--state`), in
 * memory while they fit the cache bound, on file once they do not: a `Map` holds them until there
 * are more than the bound allows, then they go into a fresh `SqliteStateStore` on `file`, which
 * holds them from then on (with its bounded cache). Closing the store leaves every state in the
 * file, in id order, for `TemporaryStates.entries()` to read back; releasing it instead hands the
 * states that never left memory back in id order, without writing a file (`TemporaryStates.hold`).
 *
 * Stores of parallel folding threads share one bound: `shared` counts the states all of them hold
 * in memory (an `Int32Array` on a `SharedArrayBuffer`), so the bound is the replay's, not an
 * even split that would send one thread to its file while another holds less than its half.
 *
 * While the states fit in memory, a commit only records the offsets: nothing here survives a crash
 * (the files are temporary), so the fold pays neither the cache's bookkeeping per event nor
 * intermediate writes of states that change again — one write of each state at the end.
 */
import { existsSync } from 'node:fs'
import { MemoryStateStore } from './memory-state-store.js'
import { SqliteStateStore } from './sqlite-state-store.js'
import { type CacheBound, DEFAULT_CACHE, statesWithin } from './state-cache.js'
import type { OpenedState, PartitionOffsets, StateIdentity, StateStore } from './state-store.js'

/** A state's JSON text is measured once per this many new aggregates (for a bound in bytes). */
const SAMPLE_EVERY = 1000

export class SpillingStateStore implements StateStore {
  readonly location: string
  private memory: MemoryStateStore | undefined = new MemoryStateStore()
  private file: SqliteStateStore | undefined
  private identity: StateIdentity = { reducer: '', topics: [] }
  private offsets: PartitionOffsets = new Map()
  private sampledBytes = 0
  private samples = 0
  private sinceSample = 0

  /**
   * `cache`: the bound of states in memory (default DEFAULT_CACHE); `shared`: the count of states
   * held in memory by every store sharing that bound; `fileCache`: the cache of the file once
   * spilled (default `cache`).
   */
  constructor(
    private readonly path: string,
    private readonly options: { cache?: CacheBound; shared?: Int32Array; fileCache?: CacheBound } = {},
  ) {
    this.location = path
  }

  /** Whether the states went to the file before the close. */
  get spilled(): boolean {
    return this.file !== undefined
  }

  /** Opened again after `close` (not fresh): the file as the close left it. */
  async open(identity: StateIdentity, options: { fresh: boolean }): Promise<OpenedState> {
    this.identity = identity
    if (!options.fresh && !this.memory && !this.file && existsSync(this.path)) {
      this.useFile(new SqliteStateStore(this.path, { cache: this.options.fileCache ?? this.bound }))
    }
    if (this.file) return this.file.open(identity, options)
    this.memory ??= new MemoryStateStore()
    return this.memory.open(identity, options)
  }

  get(aggregateId: string): unknown | undefined {
    return this.memory ? this.memory.get(aggregateId) : this.file!.get(aggregateId)
  }

  /** Only while the states are on file: in memory, nothing is worth loading ahead. */
  prefetch?: (aggregateIds: Iterable<string>) => void

  has(aggregateId: string): boolean {
    return this.memory ? this.memory.has(aggregateId) : this.file!.has(aggregateId)
  }

  set(aggregateId: string, state: unknown): void {
    if (!this.memory) {
      this.file!.set(aggregateId, state)
      return
    }
    if (++this.sinceSample >= SAMPLE_EVERY && !('states' in this.bound)) {
      this.sinceSample = 0
      this.sampledBytes += JSON.stringify(state)?.length ?? 0
      this.samples++
    }
    const before = this.memory.size
    this.memory.set(aggregateId, state)
    if (this.options.shared && this.memory.size > before) Atomics.add(this.options.shared, 0, 1)
  }

  delete(aggregateId: string): void {
    if (!this.memory) {
      this.file!.delete(aggregateId)
      return
    }
    const before = this.memory.size
    this.memory.delete(aggregateId)
    if (this.options.shared && this.memory.size < before) Atomics.sub(this.options.shared, 0, 1)
  }

  /** More states in memory than the bound allows: the next commit moves them to the file. */
  needsCommit(): boolean {
    return this.memory ? this.overBound() : this.file!.needsCommit()
  }

  async commit(offsets: PartitionOffsets): Promise<void> {
    this.offsets = new Map(offsets)
    if (this.memory) {
      if (this.overBound()) await this.spill()
      else return this.memory.commit(offsets)
    }
    await this.file!.commit(offsets)
  }

  entries(): IterableIterator<[string, unknown]> {
    return this.memory ? this.memory.entries() : this.file!.entries()
  }

  get size(): number {
    return this.memory ? this.memory.size : this.file!.size
  }

  /** Writes the states still in memory into the file (with the last offsets committed), then closes it. */
  async close(): Promise<void> {
    if (this.memory) await this.spill()
    await this.file?.close()
    this.file = undefined
    this.prefetch = undefined
  }

  /**
   * Closes the store. States that never left memory are handed back in id order instead of being
   * written to the file (the fold that fits in memory pays no file at all); undefined when they are
   * in the file, which the close leaves complete as `close` does.
   */
  async release(): Promise<Array<[string, unknown]> | undefined> {
    if (!this.memory) {
      await this.close()
      return undefined
    }
    const states = [...this.memory.entries()]
    if (this.options.shared) Atomics.sub(this.options.shared, 0, this.memory.size)
    this.memory = undefined
    return states
  }

  private get bound(): CacheBound {
    return this.options.cache ?? DEFAULT_CACHE
  }

  /** The states in memory (of every store sharing the bound) are more than it allows. */
  private overBound(): boolean {
    const held = this.options.shared ? Atomics.load(this.options.shared, 0) : this.memory!.size
    return held > statesWithin(this.bound, this.samples > 0 ? this.sampledBytes / this.samples : undefined)
  }

  /** Every state in memory into a fresh file, in id order; the file holds them from now on. */
  private async spill(): Promise<void> {
    const file = new SqliteStateStore(this.path, { cache: this.options.fileCache ?? this.bound })
    await file.open(this.identity, { fresh: true })
    for (const [id, state] of this.memory!.entries()) file.set(id, state)
    await file.commit(this.offsets)
    if (this.options.shared) Atomics.sub(this.options.shared, 0, this.memory!.size)
    this.useFile(file)
    this.memory = undefined
  }

  private useFile(file: SqliteStateStore): void {
    this.file = file
    this.prefetch = (aggregateIds) => file.prefetch(aggregateIds)
  }
}
