/**
 * A read model in a PostgreSQL table (`table` or `schema.table`). Values come back as node-postgres
 * parses them: NUMERIC and BIGINT as text, timestamps as Date, json/jsonb as objects; the diff
 * compares them by what they mean (src/diff/compare.ts).
 */
import type pg from 'pg'
import type { Row } from '../diff/compare.js'
import { ConfigError, NotFoundError, nearMatches, UnreachableError } from '../errors.js'
import { type ReadModel, rowsByKey } from './read-model.js'

export interface PostgresReadModelSpec {
  url: string
  table: string
  /** The column holding the aggregate id. Default `id`. */
  key?: string
  /** Default 10 s. */
  connectionTimeoutMs?: number
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
  }
}

export async function openPostgresReadModel(spec: PostgresReadModelSpec): Promise<ReadModel> {
  const where = redactUrl(spec.url)
  const label = `postgres ${where} table ${spec.table}`
  const { Client } = (await import('pg')).default
  const client: pg.Client = new Client({
    connectionString: spec.url,
    connectionTimeoutMillis: spec.connectionTimeoutMs ?? 10_000,
  })
  // A connection dropped later surfaces as the failure of the query that needed it.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => {})
    throw new UnreachableError(`cannot connect to the read model ${where}: ${(error as Error).message}`, {
      code: 'READ_MODEL_UNREACHABLE',
      where: { url: where },
      suggestion: 'check readModel.url (and that the database is up)',
    })
  }
  try {
    const [schema, table] = spec.table.includes('.') ? spec.table.split('.', 2) : [undefined, spec.table]
    const columns = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
        WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema()) ORDER BY ordinal_position`,
      [table, schema ?? null],
    )
    if (columns.rows.length === 0) {
      const tables = await client.query<{ name: string }>(
        `SELECT CASE WHEN table_schema = current_schema() THEN table_name ELSE table_schema || '.' || table_name END AS name
           FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
      )
      const near = nearMatches(
        spec.table,
        tables.rows.map((t) => t.name),
      )
      throw new NotFoundError(`table "${spec.table}" not found in ${where}`, {
        code: 'READ_MODEL_TABLE_NOT_FOUND',
        where: { url: where, table: spec.table },
        suggestion: near.length ? `did you mean ${near.join(', ')}?` : 'check readModel.table in the config',
      })
    }
    const names = columns.rows.map((c) => c.column_name)
    const key = spec.key ?? 'id'
    if (!names.includes(key)) {
      throw new ConfigError(`${label} has no key column "${key}"`, {
        code: 'READ_MODEL_KEY',
        where: { url: where, table: spec.table, key },
        suggestion: `set readModel.key to one of: ${names.join(', ')}`,
      })
    }
    const qualified = spec.table
      .split('.')
      .map((part) => `"${part.replaceAll('"', '""')}"`)
      .join('.')
    const keyColumn = `"${key.replaceAll('"', '""')}"`
    const query = async (text: string, values?: unknown[]): Promise<Row[]> => {
      try {
        return (await client.query(text, values)).rows as Row[]
      } catch (error) {
        throw new UnreachableError(`reading ${label} failed: ${(error as Error).message}`, {
          code: 'READ_MODEL_UNREACHABLE',
          where: { url: where, table: spec.table },
        })
      }
    }
    return {
      label,
      async list() {
        return rowsByKey(await query(`SELECT * FROM ${qualified}`), key, label)
      },
      async get(ids) {
        const found = new Map<string, Row>()
        for (let i = 0; i < ids.length; i += 1000) {
          const rows = await query(`SELECT * FROM ${qualified} WHERE ${keyColumn}::text = ANY($1::text[])`, [
            ids.slice(i, i + 1000),
          ])
          for (const [id, row] of rowsByKey(rows, key, label)) found.set(id, row)
        }
        return found
      },
      async close() {
        await client.end().catch(() => {})
      },
    }
  } catch (error) {
    await client.end().catch(() => {})
    throw error
  }
}
