/**
 * The `accounts` read model the projector writes: a SQLite file (the default) or a PostgreSQL
 * table. Both keep, in the same database, the projector's next offset per events partition
 * (`projector_offsets`), written in the same transaction as the rows it covers.
 *
 *   accounts(id TEXT PRIMARY KEY, owner TEXT, balance REAL|NUMERIC, status TEXT, version INTEGER,
 *            updated_at TEXT)            updated_at = the timestamp of the last event applied
 *   projector_offsets(projection, topic, partition, next_offset, updated_at)
 *                                        projection = the accounts table's name
 *
 * Upserts only ever move a row forward (`WHERE excluded.version > version`), so a writer working
 * from stale rows cannot take an account back in time.
 */
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { type AccountState, bodyOf, type EventEnvelope, evolve, initialState } from './domain.js'
import { EXIT_UNREACHABLE, EXIT_USAGE, type Positions, ProcessError } from './runtime.js'

export interface AccountRow {
  id: string
  owner: string | null
  balance: number
  status: string
  version: number
  updatedAt: string
}

export interface AccountSnapshot {
  id: string
  owner: string | null
  balance: number
  status: string
  version: number
}

/** The row after one event; `row` undefined = the account has no row yet. */
export function projectRow(row: AccountRow | undefined, event: EventEnvelope): AccountRow {
  const state: AccountState = row
    ? {
        id: row.id,
        owner: row.owner,
        balance: row.balance,
        status: row.status as AccountState['status'],
        version: row.version,
      }
    : initialState(event.aggregateId)
  const next = evolve(state, bodyOf(event))
  return {
    id: next.id,
    owner: next.owner,
    balance: next.balance,
    status: next.status,
    version: next.version,
    updatedAt: event.timestamp,
  }
}

export function snapshotOf(row: AccountRow): AccountSnapshot {
  return { id: row.id, owner: row.owner, balance: row.balance, status: row.status, version: row.version }
}

export interface AccountsReadModel {
  /** `sqlite:/abs/file.db table accounts`, `postgres://host/db schema.table` (no password). */
  readonly description: string
  /** The stored next offsets of `topic`, per partition. */
  positions(topic: string): Promise<Positions>
  load(ids: string[]): Promise<Map<string, AccountRow>>
  /** Writes the rows and the next offset of (topic, partition) in one transaction. */
  commit(rows: AccountRow[], topic: string, partition: number, nextOffset: bigint): Promise<void>
  close(): Promise<void>
}

export type ReadModelTarget = { type: 'sqlite'; file: string } | { type: 'postgres'; url: string }

/** `sqlite:./file.db`, `./file.db`, `postgres://…` or `postgresql://…`. */
export function parseReadModel(spec: string): ReadModelTarget {
  if (/^postgres(ql)?:\/\//.test(spec)) return { type: 'postgres', url: spec }
  const file = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec
  if (file === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    throw new ProcessError(`--read-model "${spec}" is neither sqlite:<file> nor a postgres:// URL`, EXIT_USAGE)
  }
  return { type: 'sqlite', file: resolve(file) }
}

export interface OpenOptions {
  table: string
  /** PostgreSQL schema (created if missing); ignored for SQLite. */
  schema?: string
  /** Called when a connection fails outside a call (PostgreSQL idle connection lost). */
  onError: (error: unknown) => void
}

export async function openReadModel(target: ReadModelTarget, options: OpenOptions): Promise<AccountsReadModel> {
  for (const name of [options.table, options.schema].filter((n): n is string => n !== undefined)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ProcessError(`"${name}" is not a plain SQL identifier (letters, digits, _)`, EXIT_USAGE)
    }
  }
  return target.type === 'sqlite' ? openSqlite(target.file, options.table) : openPostgres(target.url, options)
}

function openSqlite(file: string, table: string): AccountsReadModel {
  let db: Database.Database
  try {
    db = new Database(file)
    // WAL: `es` and other readers can query the file while the projector writes.
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    db.exec(`
      CREATE TABLE IF NOT EXISTS "${table}" (
        id TEXT PRIMARY KEY, owner TEXT, balance REAL NOT NULL, status TEXT NOT NULL,
        version INTEGER NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS projector_offsets (
        projection TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
        next_offset INTEGER NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (projection, topic, partition));`)
  } catch (error) {
    throw new ProcessError(`cannot open SQLite read model ${file}: ${(error as Error).message}`, EXIT_UNREACHABLE)
  }
  const selectRow = db.prepare<[string], SqliteRow>(
    `SELECT id, owner, balance, status, version, updated_at FROM "${table}" WHERE id = ?`,
  )
  const selectOffsets = db.prepare<[string, string], { partition: number; next_offset: number }>(
    'SELECT partition, next_offset FROM projector_offsets WHERE projection = ? AND topic = ?',
  )
  const upsertRow = db.prepare(`
    INSERT INTO "${table}" (id, owner, balance, status, version, updated_at)
    VALUES (@id, @owner, @balance, @status, @version, @updatedAt)
    ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, balance = excluded.balance, status = excluded.status,
      version = excluded.version, updated_at = excluded.updated_at
    WHERE excluded.version > "${table}".version`)
  const upsertOffset = db.prepare(`
    INSERT INTO projector_offsets (projection, topic, partition, next_offset, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (projection, topic, partition) DO UPDATE SET next_offset = excluded.next_offset,
      updated_at = excluded.updated_at`)
  const commit = db.transaction((rows: AccountRow[], topic: string, partition: number, nextOffset: bigint) => {
    for (const row of rows) upsertRow.run(row)
    upsertOffset.run(table, topic, partition, nextOffset, new Date().toISOString())
  })
  return {
    description: `sqlite:${file} table ${table}`,
    positions: async (topic) =>
      new Map(selectOffsets.all(table, topic).map((r) => [r.partition, BigInt(r.next_offset)] as const)),
    load: async (ids) => {
      const rows = new Map<string, AccountRow>()
      for (const id of ids) {
        const row = selectRow.get(id)
        if (row) rows.set(id, fromSql(row))
      }
      return rows
    },
    commit: async (rows, topic, partition, nextOffset) => commit(rows, topic, partition, nextOffset),
    close: async () => {
      db.close()
    },
  }
}

interface SqliteRow {
  id: string
  owner: string | null
  balance: number | string
  status: string
  version: number
  updated_at: string
}

function fromSql(row: SqliteRow): AccountRow {
  return {
    id: row.id,
    owner: row.owner,
    balance: Number(row.balance),
    status: row.status,
    version: Number(row.version),
    updatedAt: row.updated_at,
  }
}

async function openPostgres(url: string, options: OpenOptions): Promise<AccountsReadModel> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  client.on('error', options.onError)
  const schema = options.schema
  const qualified = (name: string) => (schema ? `"${schema}"."${name}"` : `"${name}"`)
  const table = qualified(options.table)
  const offsets = qualified('projector_offsets')
  try {
    await client.connect()
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${table} (
        id TEXT PRIMARY KEY, owner TEXT, balance NUMERIC NOT NULL, status TEXT NOT NULL,
        version INTEGER NOT NULL, updated_at TEXT NOT NULL)`)
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${offsets} (
        projection TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
        next_offset BIGINT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (projection, topic, partition))`)
  } catch (error) {
    await client.end().catch(() => {})
    const code = String((error as { code?: string }).code ?? '')
    // Connection refused, unknown host, authentication (28…) or missing database (3D000).
    const unreachable = /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|28|3D000)/.test(code)
    throw new ProcessError(
      `cannot use PostgreSQL read model ${redact(url)}: ${(error as Error).message}`,
      unreachable ? EXIT_UNREACHABLE : 1,
    )
  }
  return {
    description: `${redact(url)} table ${schema ? `${schema}.` : ''}${options.table}`,
    positions: async (topic) => {
      const result = await client.query<{ partition: number; next_offset: string }>(
        `SELECT partition, next_offset FROM ${offsets} WHERE projection = $1 AND topic = $2`,
        [options.table, topic],
      )
      return new Map(result.rows.map((r) => [r.partition, BigInt(r.next_offset)] as const))
    },
    load: async (ids) => {
      const result = await client.query<SqliteRow>(
        `SELECT id, owner, balance, status, version, updated_at FROM ${table} WHERE id = ANY($1::text[])`,
        [ids],
      )
      return new Map(result.rows.map((row) => [row.id, fromSql(row)] as const))
    },
    commit: async (rows, topic, partition, nextOffset) => {
      await client.query('BEGIN')
      try {
        if (rows.length > 0) {
          await client.query(
            `INSERT INTO ${table} AS t (id, owner, balance, status, version, updated_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::int[], $6::text[])
             ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, balance = excluded.balance,
               status = excluded.status, version = excluded.version, updated_at = excluded.updated_at
             WHERE excluded.version > t.version`,
            [
              rows.map((r) => r.id),
              rows.map((r) => r.owner),
              rows.map((r) => String(r.balance)),
              rows.map((r) => r.status),
              rows.map((r) => r.version),
              rows.map((r) => r.updatedAt),
            ],
          )
        }
        await client.query(
          `INSERT INTO ${offsets} (projection, topic, partition, next_offset, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (projection, topic, partition) DO UPDATE SET next_offset = excluded.next_offset,
             updated_at = excluded.updated_at`,
          [options.table, topic, partition, nextOffset.toString(), new Date().toISOString()],
        )
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      }
    },
    close: () => client.end(),
  }
}

/** A URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
  }
}
