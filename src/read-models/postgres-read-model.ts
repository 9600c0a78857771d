/**
 * A read model in a PostgreSQL table (`table` or `schema.table`). Values come back as node-postgres
 * parses them: NUMERIC and BIGINT as text, `timestamptz` as Date, json/jsonb as objects; the diff
 * compares them by what they mean (src/diff/compare.ts). A `timestamp` (without time zone) stays
 * text: node-postgres would read it in the zone of the machine es runs on, while it names a wall
 * clock of the zone the service wrote it in (the diff's `timeZone`).
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import type { OffsetsTableSpec } from '../config/types.js'
import { ConfigError, InvalidDataError, NotFoundError, nearMatches, UnreachableError } from '../errors.js'
import { redact } from '../redact.js'
import { type EncodedRows, encodeCopyRows } from './postgres-copy.js'
import {
  keptNotFound,
  keptTableName,
  offsetsQuery,
  type ReadModel,
  type RebuildableReadModel,
  rowKey,
  rowsByKey,
  toStoredOffsets,
} from './read-model.js'
import type { Row } from './row.js'

/** The type oid of PostgreSQL's `timestamp` (without time zone). */
const TIMESTAMP_WITHOUT_TIME_ZONE = 1114

export interface PostgresReadModelSpec {
  url: string
  table: string
  /** The column holding the aggregate id. Default `id`. */
  key?: string
  /** Default 10 s. */
  connectionTimeoutMs?: number
  /** Rows per page of a scan (a server-side cursor). Default 5000. */
  pageRows?: number
  /** The projector's offsets table. */
  offsets?: OffsetsTableSpec
}

export async function openPostgresReadModel(spec: PostgresReadModelSpec): Promise<ReadModel> {
  return openPostgres(spec)
}

export async function openPostgresRebuildTarget(spec: PostgresReadModelSpec): Promise<RebuildableReadModel> {
  return openPostgres(spec)
}

async function openPostgres(spec: PostgresReadModelSpec): Promise<RebuildableReadModel> {
  const where = redact(spec.url)
  const label = `postgres ${where} table ${spec.table}`
  const { Client, types } = (await import('pg')).default
  const connect = async (): Promise<pg.Client> => {
    const client: pg.Client = new Client({
      connectionString: spec.url,
      connectionTimeoutMillis: spec.connectionTimeoutMs ?? 10_000,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === TIMESTAMP_WITHOUT_TIME_ZONE && format !== 'binary'
            ? (text: string) => text
            : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
      },
    })
    // A connection dropped later surfaces as the failure of the query that needed it.
    client.on('error', () => {})
    try {
      await client.connect()
      return client
    } catch (error) {
      await client.end().catch(() => {})
      throw new UnreachableError(`cannot connect to the read model ${where}: ${(error as Error).message}`, {
        code: 'READ_MODEL_UNREACHABLE',
        where: { url: where },
        suggestion: 'check readModel.url (and that the database is up)',
      })
    }
  }
  const client = await connect()
  // The shadow is written over SHADOW_WRITERS connections (this one and more opened with it), so
  // the server parses and indexes two COPYs at once: 100,000 bank rows in ≈0.4 s instead of ≈0.7 s.
  const writers: pg.Client[] = [client]
  let writes = 0
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
    const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
    const qualify = (name: string) => (schema === undefined ? quote(name) : `${quote(schema)}.${quote(name)}`)
    const qualified = qualify(table)
    const keyColumn = quote(key)
    const shadowName = `${table}__es_rebuild`
    const shadow = qualify(shadowName)
    /** The indexes of `owner`: name, and the definition without the index and table names. */
    const indexesOf = async (owner: string) => {
      const found = await client.query<{ indexname: string; indexdef: string }>(
        'SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND schemaname = COALESCE($2, current_schema()) ORDER BY indexname',
        [owner, schema ?? null],
      )
      return found.rows.map((r) => ({
        name: r.indexname,
        shape: r.indexdef.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+ /, (_m, unique) => (unique ? 'UNIQUE ' : '')),
      }))
    }
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
    const withSchema = (name: string) => (schema === undefined ? name : `${schema}.${name}`)
    /** Tables kept by earlier swaps, newest first. */
    const keptNames = async () => {
      const found = await client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = COALESCE($1, current_schema()) AND table_name LIKE $2 ORDER BY table_name DESC',
        [schema ?? null, `${table.replace(/[\\_%]/g, (c) => `\\${c}`)}\\_\\_es\\_old\\_%`],
      )
      return found.rows.map((r) => r.table_name)
    }
    /** One COPY into the shadow; round robin: with at most parallelWrites in flight, each goes to a free connection. */
    const writeEncoded = async (rows: EncodedRows): Promise<void> => {
      if (rows.count === 0) return
      try {
        const { from: copyFrom } = (await import('pg-copy-streams')).default
        const writer = writers[writes++ % writers.length]
        const copy = writer.query(copyFrom(`COPY ${shadow} (${rows.columns.map(quote).join(', ')}) FROM STDIN`))
        await pipeline(Readable.from([rows.text]), copy)
      } catch (error) {
        throw new InvalidDataError(`cannot write rows into ${label}: ${(error as Error).message}`, {
          code: 'READ_MODEL_WRITE_FAILED',
          where: { url: where, table: spec.table, firstAggregate: rows.firstKey },
        })
      }
    }
    /** Renames `sourceName` into the live table's place in one transaction; the live one is dropped or kept. */
    const swapIn = async (sourceName: string, keepOld: boolean): Promise<{ kept?: string }> => {
      const kept = keepOld
        ? await keptTableName(table, async (name) => {
            const found = await client.query(
              'SELECT 1 FROM information_schema.tables WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema())',
              [name, schema ?? null],
            )
            return (found.rowCount ?? 0) > 0
          })
        : undefined
      try {
        await client.query('BEGIN')
        await client.query(`LOCK TABLE ${qualified} IN ACCESS EXCLUSIVE MODE`)
        // The shadow's indexes (LIKE … INCLUDING ALL: generated names) take the live ones' names,
        // matched by definition, so that the table looks as before and the next rebuild alike.
        const live = await indexesOf(table)
        const built = await indexesOf(sourceName)
        if (kept === undefined) await client.query(`DROP TABLE ${qualified}`)
        else {
          await client.query(`ALTER TABLE ${qualified} RENAME TO ${quote(kept)}`)
          for (const [i, index] of live.entries()) {
            await client.query(`ALTER INDEX ${qualify(index.name)} RENAME TO ${quote(`${kept}_${i + 1}`)}`)
          }
        }
        await client.query(`ALTER TABLE ${qualify(sourceName)} RENAME TO ${quote(table)}`)
        const free = [...live]
        for (const index of built) {
          const match = free.findIndex((l) => l.shape === index.shape)
          if (match < 0) continue
          await client.query(`ALTER INDEX ${qualify(index.name)} RENAME TO ${quote(free[match].name)}`)
          free.splice(match, 1)
        }
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw new UnreachableError(`swapping ${sourceName} in for ${label} failed: ${(error as Error).message}`, {
          code: 'READ_MODEL_SWAP_FAILED',
          where: { url: where, table: spec.table },
          suggestion: 'the live table is unchanged',
        })
      }
      if (kept === undefined) return {}
      return { kept: schema === undefined ? kept : `${schema}.${kept}` }
    }
    return {
      label,
      columns: names,
      key,
      shadowName,
      async scan() {
        const pageRows = spec.pageRows ?? 5000
        return {
          columns: names,
          rows: (async function* () {
            // A server-side cursor in a read-only transaction: one consistent snapshot, fetched a
            // page at a time. Ids as text in code point order (COLLATE "C"), as state files sort.
            await query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY')
            try {
              await query(
                `DECLARE es_scan NO SCROLL CURSOR FOR SELECT * FROM ${qualified} ORDER BY ${keyColumn}::text COLLATE "C"`,
              )
              for (;;) {
                const page = await query(`FETCH ${pageRows} FROM es_scan`)
                for (const row of page) yield [rowKey(row, key, label), row] as [string, Row]
                if (page.length < pageRows) break
              }
            } finally {
              await client.query('ROLLBACK').catch(() => {})
            }
          })(),
        }
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
      storedOffsets: spec.offsets
        ? async () => {
            const { text, values } = offsetsQuery(spec.offsets!, quote, (i) => `$${i}`)
            let rows: Array<{ topic: unknown; partition: unknown; next_offset: unknown }>
            try {
              rows = (await client.query(text, values)).rows
            } catch (error) {
              throw new ConfigError(`cannot read the offsets table of ${label}: ${(error as Error).message}`, {
                code: 'READ_MODEL_OFFSETS_INVALID',
                where: { url: where, table: spec.offsets!.table },
                suggestion: 'check readModel.offsets (table and column names) in the config',
              })
            }
            return toStoredOffsets(rows, label)
          }
        : undefined,
      async createShadow() {
        await query(`DROP TABLE IF EXISTS ${shadow}`)
        // Same columns, defaults, constraints and indexes (under generated names).
        await query(`CREATE TABLE ${shadow} (LIKE ${qualified} INCLUDING ALL)`)
        while (writers.length < SHADOW_WRITERS) writers.push(await connect())
      },
      parallelWrites: SHADOW_WRITERS,
      async writeShadow(rows) {
        if (rows.length > 0) await writeEncoded(encodeCopyRows(rows, key))
      },
      encodedWrites: { encoding: 'postgres-copy', write: writeEncoded },
      async swapShadow({ keepOld }) {
        return swapIn(shadowName, keepOld)
      },
      async keptTables() {
        return (await keptNames()).map(withSchema)
      },
      async restore(name) {
        const kept = await keptNames()
        const bare = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name
        if (!kept.includes(bare)) throw keptNotFound(name, kept.map(withSchema), label)
        const result = await swapIn(bare, true)
        return { kept: result.kept! }
      },
      async dropShadow() {
        await query(`DROP TABLE IF EXISTS ${shadow}`)
      },
      async close() {
        await Promise.all(writers.map((writer) => writer.end().catch(() => {})))
      },
    }
  } catch (error) {
    await client.end().catch(() => {})
    throw error
  }
}

/** Connections writing a rebuild's shadow table at once. */
const SHADOW_WRITERS = 2
