/**
 * A read model in a SQLite file, opened read-only (a projector may be writing it: WAL lets both
 * work). Rows come back as SQLite stores them: INTEGER/REAL as numbers, TEXT as text.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import type { Row } from '../diff/compare.js'
import { ConfigError, NotFoundError, nearMatches, UnreachableError } from '../errors.js'
import { type ReadModel, rowsByKey } from './read-model.js'

export interface SqliteReadModelSpec {
  file: string
  table: string
  /** The column holding the aggregate id. Default `id`. */
  key?: string
}

export async function openSqliteReadModel(spec: SqliteReadModelSpec): Promise<ReadModel> {
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
    db = new Database(file, { readonly: true, fileMustExist: true })
    db.pragma('busy_timeout = 5000')
  } catch (error) {
    throw new UnreachableError(`cannot open read model ${file}: ${(error as Error).message}`, {
      code: 'READ_MODEL_UNREACHABLE',
      where: { file },
    })
  }
  try {
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").all() as Array<{
        name: string
      }>
    ).map((t) => t.name)
    if (!tables.includes(spec.table)) {
      const near = nearMatches(spec.table, tables)
      throw new NotFoundError(`table "${spec.table}" not found in ${file}`, {
        code: 'READ_MODEL_TABLE_NOT_FOUND',
        where: { file, table: spec.table },
        suggestion: near.length ? `did you mean ${near.join(', ')}?` : `tables: ${tables.join(', ') || '(none)'}`,
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
    const all = db.prepare(`SELECT * FROM ${table}`)
    return {
      label,
      async list() {
        return rowsByKey(all.all() as Row[], key, label)
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
      async close() {
        db.close()
      },
    }
  } catch (error) {
    db.close()
    throw error
  }
}

/** `"accounts"`; `"main"."accounts"` for a qualified name. */
export function quoteIdentifier(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.')
}
