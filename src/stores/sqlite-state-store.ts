/**
 * State in a SQLite file an operator can open with `sqlite3`: tables `state(aggregate_id, state)`
 * (state as JSON text), `offsets(topic, partition, next_offset)` and `meta(key, value)`.
 * Every commit writes the changed aggregates and the offsets in one transaction (WAL journal),
 * so a process killed at any point leaves the last commit intact and consistent.
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { ConfigError, InvalidDataError } from '../errors.js'
import {
  entriesById,
  type OpenedState,
  type PartitionOffsets,
  partitionKey,
  type StateIdentity,
  type StateStore,
  sameIdentity,
  splitPartitionKey,
} from './state-store.js'

const SCHEMA_VERSION = '1'

export class SqliteStateStore implements StateStore {
  readonly location: string
  private db?: BetterSqlite3.Database
  private readonly states = new Map<string, unknown>()
  private readonly dirty = new Set<string>()

  constructor(file: string) {
    this.location = resolve(file)
  }

  async open(identity: StateIdentity, options: { fresh: boolean }): Promise<OpenedState> {
    const Database = (await import('better-sqlite3')).default
    mkdirSync(dirname(this.location), { recursive: true })
    let db: BetterSqlite3.Database
    try {
      db = new Database(this.location)
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS state (aggregate_id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS offsets (
          topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
          PRIMARY KEY (topic, partition)) WITHOUT ROWID;`)
    } catch (error) {
      throw new InvalidDataError(`${this.location} is not a usable state file: ${(error as Error).message}`, {
        code: 'STATE_FILE_INVALID',
        where: { file: this.location },
      })
    }
    this.db = db
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [
        r.key,
        r.value,
      ]),
    )
    const stored = meta.has('identity') ? (JSON.parse(meta.get('identity')!) as StateIdentity) : undefined
    if (options.fresh || !stored) {
      db.transaction(() => {
        db.exec('DELETE FROM state; DELETE FROM offsets; DELETE FROM meta;')
        const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
        put.run('identity', JSON.stringify(identity))
        put.run('schema', SCHEMA_VERSION)
        put.run('created', new Date().toISOString())
      })()
      this.states.clear()
      return { offsets: new Map(), aggregates: 0 }
    }
    if (!sameIdentity(stored, identity)) {
      const what =
        stored.reducer !== identity.reducer ? `reducer ${stored.reducer}` : `topics ${stored.topics.join(', ')}`
      throw new ConfigError(`state file ${this.location} was written by ${what}, not by this replay`, {
        code: 'STATE_MISMATCH',
        where: { file: this.location },
        suggestion: 'use --from-beginning to discard it and replay from offset 0, or choose another --state file',
      })
    }
    for (const row of db.prepare('SELECT aggregate_id, state FROM state').iterate() as Iterable<{
      aggregate_id: string
      state: string
    }>) {
      this.states.set(row.aggregate_id, JSON.parse(row.state))
    }
    const offsets: PartitionOffsets = new Map()
    for (const row of db.prepare('SELECT topic, partition, next_offset FROM offsets').all() as Array<{
      topic: string
      partition: number
      next_offset: number
    }>) {
      offsets.set(partitionKey(row.topic, row.partition), row.next_offset)
    }
    return { offsets, aggregates: this.states.size }
  }

  get(aggregateId: string): unknown | undefined {
    return this.states.get(aggregateId)
  }

  has(aggregateId: string): boolean {
    return this.states.has(aggregateId)
  }

  set(aggregateId: string, state: unknown): void {
    this.states.set(aggregateId, state)
    this.dirty.add(aggregateId)
  }

  delete(aggregateId: string): void {
    this.states.delete(aggregateId)
    this.dirty.add(aggregateId)
  }

  async commit(offsets: PartitionOffsets): Promise<void> {
    const db = this.requireOpen()
    const upsert = db.prepare(
      'INSERT INTO state (aggregate_id, state) VALUES (?, ?) ON CONFLICT(aggregate_id) DO UPDATE SET state = excluded.state',
    )
    const remove = db.prepare('DELETE FROM state WHERE aggregate_id = ?')
    const putOffset = db.prepare(
      'INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset',
    )
    db.transaction(() => {
      for (const id of this.dirty) {
        const state = this.states.get(id)
        if (state === undefined) remove.run(id)
        else upsert.run(id, JSON.stringify(state))
      }
      for (const [key, next] of offsets) {
        const { topic, partition } = splitPartitionKey(key)
        putOffset.run(topic, partition, next)
      }
    })()
    this.dirty.clear()
  }

  entries(): IterableIterator<[string, unknown]> {
    return entriesById(this.states)
  }

  get size(): number {
    return this.states.size
  }

  async close(): Promise<void> {
    this.db?.close()
    this.db = undefined
  }

  private requireOpen(): BetterSqlite3.Database {
    if (!this.db) throw new Error('state store is not open')
    return this.db
  }
}
