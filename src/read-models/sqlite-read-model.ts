/**
 * A read model in a SQLite file. `es diff` opens it read-only (a projector may be writing it: WAL
 * lets both work); `es rebuild-projection` opens it for writing, builds a shadow table next to the
 * live one and swaps it in with one transaction. Rows come back as SQLite stores them:
 * INTEGER/REAL as numbers, TEXT as text.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import type { OffsetsTableSpec } from '../config/types.js'
import { ConfigError, InvalidDataError, NotFoundError, nearMatches, UnreachableError } from '../errors.js'
import {
  keptNotFound,
  keptTableName,
  offsetsQuery,
  type ReadModel,
  type RebuildableReadModel,
  rowKey,
  toStoredOffsets,
} from './read-model.js'
import type { Row } from './row.js'

export interface SqliteReadModelSpec {
  file: string
  table: string
  /** The column holding the aggregate id. Default `id`. */
  key?: string
  /** The projector's offsets table. */
  offsets?: OffsetsTableSpec
}

export async function openSqliteReadModel(spec: SqliteReadModelSpec): Promise<ReadModel> {
  return openSqlite(spec, false)
}

export async function openSqliteRebuildTarget(spec: SqliteReadModelSpec): Promise<RebuildableReadModel> {
  return openSqlite(spec, true)
}

async function openSqlite(spec: SqliteReadModelSpec, writable: boolean): Promise<RebuildableReadModel> {
  const file = resolve(spec.file)
  const label = `sqlite ${file} table ${spec.table}`
  if (!existsSync(file)) {
    throw new UnreachableError(`read model ${file} does not exist`, {
      code: 'READ_MODEL_UNREACHABLE',
      where: { file },
      suggestion: 'check readModel.file in the config (relative paths are from the config file)',
    })
  }
  const Database = (await import('better-sqlite3')).default
  let db: BetterSqlite3.Database
  try {
    db = new Database(file, { readonly: !writable, fileMustExist: true })
    db.pragma('busy_timeout = 5000')
  } catch (error) {
    throw new UnreachableError(`cannot open read model ${file}: ${(error as Error).message}`, {
      code: 'READ_MODEL_UNREACHABLE',
      where: { file },
    })
  }
  try {
    const tables = () =>
      (
        db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").all() as Array<{ name: string }>
      ).map((t) => t.name)
    if (!tables().includes(spec.table)) {
      const names = tables()
      const near = nearMatches(spec.table, names)
      throw new NotFoundError(`table "${spec.table}" not found in ${file}`, {
        code: 'READ_MODEL_TABLE_NOT_FOUND',
        where: { file, table: spec.table },
        suggestion: near.length ? `did you mean ${near.join(', ')}?` : `tables: ${names.join(', ') || '(none)'}`,
      })
    }
    const table = quoteIdentifier(spec.table)
    const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name)
    const key = spec.key ?? 'id'
    if (!columns.includes(key)) {
      throw new ConfigError(`${label} has no key column "${key}"`, {
        code: 'READ_MODEL_KEY',
        where: { file, table: spec.table, key },
        suggestion: `set readModel.key to one of: ${columns.join(', ')}`,
      })
    }
    const shadowName = `${spec.table}__es_rebuild`
    const shadow = quoteIdentifier(shadowName)
    /** The live table's indexes (not the automatic ones of PRIMARY KEY/UNIQUE, which the table definition brings). */
    const indexes = () =>
      db
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
        .all(spec.table) as Array<{ name: string; sql: string }>
    const dropShadow = () => db.exec(`DROP TABLE IF EXISTS ${shadow}`)
    const keptOf = (names: string[]) =>
      names
        .filter((name) => name.startsWith(`${spec.table}__es_old_`))
        .sort()
        .reverse()

    return {
      label,
      columns,
      key,
      shadowName,
      async scan() {
        // Ids as text in code point order (SQLite's BINARY collation of UTF-8 text), whatever the
        // key column's type; SQLite sorts into temporary storage, so memory stays bounded.
        const rows = db.prepare(`SELECT * FROM ${table} ORDER BY CAST(${quoteIdentifier(key)} AS TEXT)`)
        return {
          columns,
          rows: (async function* () {
            for (const row of rows.iterate() as Iterable<Row>) yield [rowKey(row, key, label), row] as [string, Row]
          })(),
        }
      },
      async get(ids) {
        const found = new Map<string, Row>()
        const one = db.prepare(`SELECT * FROM ${table} WHERE ${quoteIdentifier(key)} = ?`)
        for (const id of ids) {
          const row = one.get(id) as Row | undefined
          if (row !== undefined) found.set(id, row)
        }
        return found
      },
      storedOffsets: spec.offsets
        ? async () => {
            const { text, values } = offsetsQuery(spec.offsets!, quoteIdentifier, () => '?')
            try {
              return toStoredOffsets(db.prepare(text).all(...values) as never[], label)
            } catch (error) {
              if (error instanceof InvalidDataError) throw error
              throw new ConfigError(`cannot read the offsets table of ${label}: ${(error as Error).message}`, {
                code: 'READ_MODEL_OFFSETS_INVALID',
                where: { file, table: spec.offsets!.table },
                suggestion: 'check readModel.offsets (table and column names) in the config',
              })
            }
          }
        : undefined,
      async createShadow() {
        const definition = db
          .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
          .get(spec.table) as { sql: string } | undefined
        if (!definition) {
          throw new ConfigError(`${label} is a view, not a table: es cannot rebuild it`, {
            code: 'READ_MODEL_NOT_REBUILDABLE',
            where: { file, table: spec.table },
          })
        }
        db.transaction(() => {
          dropShadow()
          db.exec(renameCreateTable(definition.sql, shadow))
        })()
      },
      async writeShadow(rows) {
        if (rows.length === 0) return
        const names = [...new Set(rows.flatMap((row) => Object.keys(row)))]
        const insert = db.prepare(
          `INSERT INTO ${shadow} (${names.map(quoteIdentifier).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
        )
        db.transaction(() => {
          for (const row of rows) {
            try {
              insert.run(...names.map((name) => sqliteValue(row[name])))
            } catch (error) {
              throw new InvalidDataError(
                `cannot write ${String(row[key])} into ${label}: ${(error as Error).message}`,
                { code: 'READ_MODEL_WRITE_FAILED', where: { file, table: spec.table, aggregateId: row[key] } },
              )
            }
          }
        })()
      },
      async swapShadow({ keepOld }) {
        return swapIn(shadow, keepOld)
      },
      async keptTables() {
        return keptOf(tables())
      },
      async restore(name) {
        if (!keptOf(tables()).includes(name)) throw keptNotFound(name, keptOf(tables()), label)
        const { kept } = await swapIn(quoteIdentifier(name), true)
        return { kept: kept! }
      },
      async dropShadow() {
        dropShadow()
      },
      async close() {
        db.close()
      },
    }

    /** Renames `source` into the live table's place in one transaction; the live one is dropped or kept. */
    async function swapIn(source: string, keepOld: boolean): Promise<{ kept?: string }> {
      const kept = keepOld ? await keptTableName(spec.table, (name) => tables().includes(name)) : undefined
      const liveIndexes = indexes()
      // Legacy renames leave views and triggers that name the table pointing at the name, so
      // they follow the new table rather than the replaced one.
      db.pragma('legacy_alter_table = ON')
      try {
        db.transaction(() => {
          if (kept === undefined) db.exec(`DROP TABLE ${table}`)
          else db.exec(`ALTER TABLE ${table} RENAME TO ${quoteIdentifier(kept)}`)
          db.exec(`ALTER TABLE ${source} RENAME TO ${table}`)
          // Index names are unique per database: the live table's move to the new one.
          for (const index of liveIndexes) {
            db.exec(`DROP INDEX IF EXISTS ${quoteIdentifier(index.name)}`)
            db.exec(index.sql)
          }
        })()
      } finally {
        db.pragma('legacy_alter_table = OFF')
      }
      return kept === undefined ? {} : { kept }
    }
  } catch (error) {
    db.close()
    throw error
  }
}

/** `CREATE TABLE [IF NOT EXISTS] <any name> (…)` → the same definition under `name`. */
export function renameCreateTable(sql: string, name: string): string {
  const renamed = sql.replace(
    /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[^\s(]+)/i,
    `CREATE TABLE ${name}`,
  )
  if (renamed === sql) throw new Error(`unexpected table definition: ${sql.slice(0, 80)}`)
  return renamed
}

/** Values SQLite can bind: booleans as 0/1, objects and arrays as JSON text, Dates as ISO text. */
function sqliteValue(value: unknown): unknown {
  if (value === undefined || value === null) return null
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object' && !Buffer.isBuffer(value)) return JSON.stringify(value)
  return value
}

/** `"accounts"`; `"main"."accounts"` for a qualified name. */
export function quoteIdentifier(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.')
}
