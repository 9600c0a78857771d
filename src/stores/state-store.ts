/**
 * Where replayed state lives: per-aggregate state plus, per topic partition, the next offset to
 * read. The invariant every implementation keeps: state and offsets are committed together,
 * atomically, so a replay killed at any moment and resumed ends exactly where an uninterrupted one
 * would.
 *
 * Reads and writes between commits are synchronous and in memory (the fold loop must not await
 * per event); `commit` persists what changed since the last commit together with the offsets.
 */

/** `topic/partition` → next offset to read. */
export type PartitionOffsets = Map<string, number>

export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`
}

export function splitPartitionKey(key: string): { topic: string; partition: number } {
  const slash = key.lastIndexOf('/')
  return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)) }
}

/** What produced the state: a state written under another identity is refused (unless rebuilt). */
export interface StateIdentity {
  reducer: string
  topics: string[]
}

export interface OpenedState {
  /** Offsets stored by the last commit (empty for new or discarded state). */
  offsets: PartitionOffsets
  /** Aggregates present when opened. */
  aggregates: number
}

export interface StateStore {
  /** `memory`, or the file path. */
  readonly location: string
  /**
   * Opens the store for `identity`. `fresh` discards what is stored (`--from-beginning`);
   * otherwise a store written under another identity is refused with a ConfigError.
   */
  open(identity: StateIdentity, options: { fresh: boolean }): Promise<OpenedState>
  get(aggregateId: string): unknown | undefined
  /**
   * A hint before a batch is folded: these aggregates are about to be read. A store that keeps
   * its states elsewhere loads the ones it does not hold in one go; `get` works without it.
   */
  prefetch?(aggregateIds: Iterable<string>): void
  has(aggregateId: string): boolean
  set(aggregateId: string, state: unknown): void
  delete(aggregateId: string): void
  /**
   * A store that keeps changes in memory until they are committed: true when it is full of them
   * (the fold commits after the batch, so that memory stays bounded).
   */
  needsCommit?(): boolean
  /** Persists every change since the last commit together with `offsets`, atomically. */
  commit(offsets: PartitionOffsets): Promise<void>
  /** Aggregates in id order (streamed by stores that keep their states on file). */
  entries(): IterableIterator<[string, unknown]>
  readonly size: number
  close(): Promise<void>
}

export function sameIdentity(a: StateIdentity, b: StateIdentity): boolean {
  return a.reducer === b.reducer && [...a.topics].sort().join('\n') === [...b.topics].sort().join('\n')
}

/** A store's aggregates in id order (code-unit order, as SQLite's BINARY collation sorts). */
export function entriesById(states: Map<string, unknown>): IterableIterator<[string, unknown]> {
  return [...states].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))[Symbol.iterator]()
}
