/**
 * State in a SQLite file an operator can open with `sqlite3`: tables `state(aggregate_id, state)`
 * (state as JSON text), `offsets(topic, partition, next_offset)` and `meta(key, value)`.
 *
 * The file holds the states; memory holds a bounded cache of recently used ones (see
 * `StateCache`), so a replay of any number of aggregates runs in bounded memory.
 *
 * Crash safety: between two commits every write goes into one open SQLite transaction — the
 * states evicted from the cache as well as, at the commit, every state still dirty in it and the
 * offsets. A process killed at any point therefore leaves the file exactly as the last commit left
 * it (states and offsets of the same moment), and a resumed replay ends where an uninterrupted one
 * would. Reads inside the transaction see its own uncommitted writes.
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { asFileSystemError, ConfigError, fileSystemFailure, InvalidDataError } from '../errors.js'
import { type CacheBound, DEFAULT_CACHE, StateCache, type StateWriter } from './state-cache.js'
import {
  type OpenedState,
  type PartitionOffsets,
  partitionKey,
  type StateIdentity,
  type StateStore,
  sameIdentity,
  splitPartitionKey,
} from './state-store.js'
import { WrittenIds } from './written-ids.js'

const SCHEMA_VERSION = '1'
const UPSERT = 'ON CONFLICT(aggregate_id) DO UPDATE SET state = excluded.state'
/** Ids per prefetch query: one statement with this many parameters, prepared once. */
const PREFETCH_CHUNK = 256
/** Rows per write statement (multi-row upserts cost a fraction of one statement per row). */
const WRITE_CHUNK = 64

export interface SqliteStateStoreOptions {
  /** How many states memory keeps (or how many bytes of them); default DEFAULT_CACHE. */
  cache?: CacheBound
  /** SQLite's own page cache, in KiB (default 8 MiB): the B-tree's upper levels stay in memory. */
  pageCacheKiB?: number
  /**
   * Other threads fold other aggregates into the same file at the same time (the partition groups
   * of a parallel replay, whose aggregates never meet): no transaction stays open between commits,
   * a commit takes the write lock (waiting while another thread commits) and stores its own
   * partitions' offsets with its own states, and adds its change of the aggregate count to the
   * file's. Opening such a store `fresh` clears nothing (the replay that started the threads did)
   * and means: none of this thread's aggregates is in the file yet.
   */
  shared?: boolean
}

/** How long a commit of a shared file waits for another thread's commit to end, in ms. */
const SHARED_LOCK_WAIT_MS = 10 * 60_000

interface Statements {
  select: BetterSqlite3.Statement
  selectMany: BetterSqlite3.Statement
  upsert: BetterSqlite3.Statement
  upsertMany: BetterSqlite3.Statement
  remove: BetterSqlite3.Statement
  putOffset: BetterSqlite3.Statement
  putMeta: BetterSqlite3.Statement
  addAggregates: BetterSqlite3.Statement
}

/** What to do when a state file's disk refused a write during a replay (its last commit stays). */
export const STATE_FILE_RESUME_ADVICE =
  'the file holds what was last committed; free space there or choose a file on another disk, then run again without --from-beginning to resume'

export class SqliteStateStore implements StateStore, StateWriter {
  readonly location: string
  private db?: BetterSqlite3.Database
  private statements?: Statements
  private readonly cache: StateCache
  private readonly pageCacheKiB: number
  /** Ids written since the file was opened fresh (undefined when opened with stored state). */
  private written?: WrittenIds
  /** Aggregates in the file plus the uncommitted changes (kept exact on every set and delete). */
  private count = 0
  /** The count as last committed (a shared file adds the difference to the file's). */
  private committedCount = 0
  readonly cacheBound: CacheBound
  private readonly shared: boolean

  constructor(file: string, options: SqliteStateStoreOptions = {}) {
    this.location = resolve(file)
    this.cacheBound = options.cache ?? DEFAULT_CACHE
    this.cache = new StateCache(this.cacheBound, this)
    this.pageCacheKiB = options.pageCacheKiB ?? 8 * 1024
    this.shared = options.shared ?? false
  }

  async open(identity: StateIdentity, options: { fresh: boolean }): Promise<OpenedState> {
    const Database = (await import('better-sqlite3')).default
    mkdirSync(dirname(this.location), { recursive: true })
    let db: BetterSqlite3.Database
    try {
      db = new Database(this.location, this.shared ? { timeout: SHARED_LOCK_WAIT_MS } : {})
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma(`cache_size = -${this.pageCacheKiB}`)
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS state (aggregate_id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS offsets (
          topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
          PRIMARY KEY (topic, partition)) WITHOUT ROWID;`)
    } catch (error) {
      if (fileSystemFailure(error)) {
        throw asFileSystemError(
          error,
          `state file ${this.location}`,
          'free space there, or choose a file on another disk',
        )
      }
      throw new InvalidDataError(`${this.location} is not a usable state file: ${(error as Error).message}`, {
        code: 'STATE_FILE_INVALID',
        where: { file: this.location },
      })
    }
    this.db = db
    this.statements = {
      select: db.prepare('SELECT state FROM state WHERE aggregate_id = ?').pluck(),
      selectMany: db.prepare(
        `SELECT aggregate_id, state FROM state WHERE aggregate_id IN (${Array(PREFETCH_CHUNK).fill('?').join(',')})`,
      ),
      upsert: db.prepare(`INSERT INTO state (aggregate_id, state) VALUES (?, ?) ${UPSERT}`),
      upsertMany: db.prepare(
        `INSERT INTO state (aggregate_id, state) VALUES ${Array(WRITE_CHUNK).fill('(?, ?)').join(', ')} ${UPSERT}`,
      ),
      remove: db.prepare('DELETE FROM state WHERE aggregate_id = ?'),
      putOffset: db.prepare(
        'INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset',
      ),
      putMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      addAggregates: db.prepare(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT) WHERE key = 'aggregates'",
      ),
    }
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [
        r.key,
        r.value,
      ]),
    )
    const stored = meta.has('identity') ? (JSON.parse(meta.get('identity')!) as StateIdentity) : undefined
    this.cache.clear()
    this.written = undefined
    if (this.shared) return this.openShared(db, identity, stored, options.fresh)
    if (options.fresh || !stored) {
      db.transaction(() => {
        db.exec('DELETE FROM state; DELETE FROM offsets; DELETE FROM meta;')
        const put = this.statements!.putMeta
        put.run('identity', JSON.stringify(identity))
        put.run('schema', SCHEMA_VERSION)
        put.run('created', new Date().toISOString())
        put.run('aggregates', '0')
      })()
      this.count = 0
      this.committedCount = 0
      this.startWritten()
      db.exec('BEGIN')
      return { offsets: new Map(), aggregates: 0 }
    }
    this.checkIdentity(stored, identity)
    // Files written before the count was kept in meta are counted once.
    this.count = meta.has('aggregates')
      ? Number(meta.get('aggregates'))
      : (db.prepare('SELECT count(*) FROM state').pluck().get() as number)
    this.committedCount = this.count
    db.exec('BEGIN')
    return { offsets: this.storedOffsets(db), aggregates: this.count }
  }

  /** A thread's view of a shared file (see SqliteStateStoreOptions.shared): its count starts at 0. */
  private openShared(
    db: BetterSqlite3.Database,
    identity: StateIdentity,
    stored: StateIdentity | undefined,
    fresh: boolean,
  ): OpenedState {
    if (!stored) throw new Error(`shared state file ${this.location} was not opened by the replay first`)
    this.checkIdentity(stored, identity)
    this.count = 0
    this.committedCount = 0
    if (fresh) this.startWritten()
    return { offsets: this.storedOffsets(db), aggregates: 0 }
  }

  /** A fresh file holds only what this run writes: a cache miss of an id never written needs no query. */
  private startWritten(): void {
    const written = new WrittenIds()
    this.written = written
    this.cache.mayBeStored = (id) => written.mayHave(id)
  }

  private checkIdentity(stored: StateIdentity, identity: StateIdentity): void {
    if (sameIdentity(stored, identity)) return
    const what =
      stored.reducer !== identity.reducer ? `reducer ${stored.reducer}` : `topics ${stored.topics.join(', ')}`
    throw new ConfigError(`state file ${this.location} was written by ${what}, not by this replay`, {
      code: 'STATE_MISMATCH',
      where: { file: this.location },
      suggestion: 'use --from-beginning to discard it and replay from offset 0, or choose another --state file',
    })
  }

  private storedOffsets(db: BetterSqlite3.Database): PartitionOffsets {
    const offsets: PartitionOffsets = new Map()
    for (const row of db.prepare('SELECT topic, partition, next_offset FROM offsets').all() as Array<{
      topic: string
      partition: number
      next_offset: number
    }>) {
      offsets.set(partitionKey(row.topic, row.partition), row.next_offset)
    }
    return offsets
  }

  get(aggregateId: string): unknown | undefined {
    return this.entry(aggregateId).state
  }

  has(aggregateId: string): boolean {
    return this.entry(aggregateId).state !== undefined
  }

  /**
   * Loads the states of `ids` that are not cached in one query per PREFETCH_CHUNK ids, so that
   * the fold of a batch finds them in memory instead of reading the file one key at a time.
   */
  prefetch(ids: Iterable<string>): void {
    const missing = this.cache.prepare(ids)
    if (missing.length === 0) return
    const { selectMany } = this.requireStatements()
    const found = new Map<string, string>()
    for (let start = 0; start < missing.length; start += PREFETCH_CHUNK) {
      const chunk = missing.slice(start, start + PREFETCH_CHUNK)
      while (chunk.length < PREFETCH_CHUNK) chunk.push(null as unknown as string)
      for (const [id, text] of selectMany.raw().all(chunk) as Array<[string, string]>) found.set(id, text)
    }
    for (const id of missing) {
      const text = found.get(id)
      this.cache.fill(id, text === undefined ? undefined : JSON.parse(text), text?.length ?? 0)
    }
  }

  set(aggregateId: string, state: unknown): void {
    const entry = this.entry(aggregateId)
    if (entry.state === undefined) this.count++
    entry.state = state
    entry.dirty = true
  }

  delete(aggregateId: string): void {
    const entry = this.entry(aggregateId)
    if (entry.state === undefined) return
    this.count--
    entry.state = undefined
    entry.dirty = true
  }

  /** The cache is full of changed states: a commit would let it evict. */
  needsCommit(): boolean {
    return this.cache.needsCommit()
  }

  /**
   * Writes every changed state into the open transaction (committed with the next commit) and
   * lets the cache go of them all: a fold in rounds (fold.ts) calls it after each key range, whose
   * states the next range never touches.
   */
  writeBack(): void {
    this.requireOpen()
    this.beginWrite()
    this.cache.writeDirty()
    this.cache.dropClean()
  }

  /** How many states the cache holds at most (a bytes bound converted with the sizes seen). */
  cacheCapacity(): number {
    return this.cache.capacity()
  }

  async commit(offsets: PartitionOffsets): Promise<void> {
    const db = this.requireOpen()
    const { putOffset, putMeta, addAggregates } = this.requireStatements()
    this.beginWrite()
    this.cache.writeDirty()
    for (const [key, next] of offsets) {
      const { topic, partition } = splitPartitionKey(key)
      putOffset.run(topic, partition, next)
    }
    if (this.shared) addAggregates.run(this.count - this.committedCount)
    else putMeta.run('aggregates', String(this.count))
    db.exec('COMMIT')
    this.committedCount = this.count
    if (!this.shared) db.exec('BEGIN')
  }

  /**
   * A shared file's writes happen in a transaction that holds the write lock from its first write
   * to its commit (taken, waiting for other threads' commits, before anything is written: a
   * read transaction cannot become a write one after another thread committed).
   */
  private beginWrite(): void {
    if (this.shared && !this.db!.inTransaction) this.db!.exec('BEGIN IMMEDIATE')
  }

  /**
   * Every aggregate in id order, read from the file after writing what is dirty into the open
   * transaction (so uncommitted changes are included). The store must not be changed while the
   * iteration runs.
   */
  *entries(): IterableIterator<[string, unknown]> {
    const db = this.requireOpen()
    this.cache.writeDirty()
    for (const row of db.prepare('SELECT aggregate_id, state FROM state ORDER BY aggregate_id').iterate() as Iterable<{
      aggregate_id: string
      state: string
    }>) {
      yield [row.aggregate_id, JSON.parse(row.state)]
    }
  }

  get size(): number {
    return this.count
  }

  /** Closes the file; what was not committed is rolled back (the offsets stored do not cover it). */
  async close(): Promise<void> {
    if (this.db?.inTransaction) this.db.exec('ROLLBACK')
    this.db?.close()
    this.db = undefined
    this.statements = undefined
    this.cache.clear()
  }

  /** Writes states (`undefined`: removals) into the open transaction; the cache calls it. */
  writeStates(changes: Array<[string, unknown]>): number {
    const { upsert, upsertMany, remove } = this.requireStatements()
    this.beginWrite()
    let length = 0
    const rows: string[] = []
    for (const [id, state] of changes) {
      if (state === undefined) {
        remove.run(id)
        continue
      }
      const text = JSON.stringify(state)
      length += text.length
      this.written?.add(id)
      rows.push(id, text)
      if (rows.length === 2 * WRITE_CHUNK) {
        upsertMany.run(rows)
        rows.length = 0
      }
    }
    for (let i = 0; i < rows.length; i += 2) upsert.run(rows[i], rows[i + 1])
    return length
  }

  /** The cache entry of an aggregate, read from the file when the cache does not hold it. */
  private entry(aggregateId: string) {
    const cached = this.cache.entry(aggregateId)
    if (cached) return cached
    const text = this.requireStatements().select.get(aggregateId) as string | undefined
    return this.cache.fill(aggregateId, text === undefined ? undefined : JSON.parse(text), text?.length ?? 0)
  }

  private requireOpen(): BetterSqlite3.Database {
    if (!this.db) throw new Error('state store is not open')
    return this.db
  }

  private requireStatements(): Statements {
    if (!this.statements) throw new Error('state store is not open')
    return this.statements
  }
}
