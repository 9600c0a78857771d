/**
 * A projection's live read model as `es diff` reads it: rows by aggregate id. One port, one
 * implementation per kind of read model (SQLite file, PostgreSQL table, HTTP query API, compacted
 * topic) and an in-memory one; test/support/read-model-contract.ts runs the same suite on each.
 */
import type { OffsetsTableSpec } from '../config/types.js'
import { ConfigError, InvalidDataError, NotFoundError } from '../errors.js'
import { compareIds } from '../stores/state-store.js'
import type { EncodedRows, RowEncoding } from './postgres-copy.js'
import type { Row } from './row.js'

/** Every row of a read model, streamed in aggregate-id order, and the columns rows may have. */
export interface RowScan {
  /** The table's columns, or for documents (HTTP, topics) every field any row has. */
  columns: readonly string[]
  /** `[aggregate id as text, row]`, in `compareIds` order, read page by page where the store allows. */
  rows: AsyncIterable<[string, Row]>
}

export interface ReadModel {
  /** What and where, for messages: `sqlite /srv/bank-accounts.db table accounts`. */
  readonly label: string
  /**
   * Every row, in aggregate-id order (its key column or field, as text), or undefined when this
   * read model cannot be listed (an HTTP API without a list URL).
   */
  scan(): Promise<RowScan | undefined>
  /** The rows of these ids that exist. */
  get(ids: readonly string[]): Promise<Map<string, Row>>
  /**
   * The offsets the projector stored in this read model (its `offsets` table), or undefined when
   * none is declared.
   */
  storedOffsets?(): Promise<StoredOffset[]>
  close(): Promise<void>
}

/** One partition's offset as a projector keeps it: the next offset it will read. */
export interface StoredOffset {
  topic: string
  partition: number
  offset: number
}

/**
 * The query reading a projector's offsets table: columns and filter from the spec, `quote` for
 * identifiers, `placeholder(i)` for the i-th parameter (`?`, `$1`).
 */
export function offsetsQuery(
  spec: OffsetsTableSpec,
  quote: (name: string) => string,
  placeholder: (index: number) => string,
): { text: string; values: Array<string | number> } {
  const where = Object.entries(spec.where ?? {})
  const text = `SELECT ${quote(spec.topic ?? 'topic')} AS topic, ${quote(spec.partition ?? 'partition')} AS partition, ${quote(spec.offset ?? 'next_offset')} AS next_offset FROM ${spec.table
    .split('.')
    .map(quote)
    .join(
      '.',
    )}${where.length ? ` WHERE ${where.map(([column], i) => `${quote(column)} = ${placeholder(i + 1)}`).join(' AND ')}` : ''}`
  return { text, values: where.map(([, value]) => value) }
}

/** Rows of `offsetsQuery` as offsets (PostgreSQL BIGINT arrives as text). */
export function toStoredOffsets(
  rows: Array<{ topic: unknown; partition: unknown; next_offset: unknown }>,
  label: string,
): StoredOffset[] {
  return rows.map((row) => {
    const offset = Number(row.next_offset)
    const partition = Number(row.partition)
    if (typeof row.topic !== 'string' || !Number.isInteger(partition) || !Number.isInteger(offset)) {
      throw new InvalidDataError(`${label}: an offsets row is not topic, partition, offset: ${JSON.stringify(row)}`, {
        code: 'READ_MODEL_OFFSETS_INVALID',
        suggestion: 'check readModel.offsets (table and column names) in the config',
      })
    }
    return { topic: row.topic, partition, offset }
  })
}

/**
 * A read model `es rebuild-projection` can replace: a table rebuilt in a shadow (same definition,
 * next to it) and swapped in atomically. Until the swap, readers see the live table untouched.
 */
export interface RebuildableReadModel extends ReadModel {
  /** The live table's columns, in order. */
  readonly columns: readonly string[]
  /** The column holding the aggregate id. */
  readonly key: string
  /** The shadow's name while it is built (a leftover from an interrupted rebuild is replaced). */
  readonly shadowName: string
  createShadow(): Promise<void>
  /** Rows by column name; values already plain (text, numbers, booleans, null). */
  writeShadow(rows: Row[]): Promise<void>
  /** How many writeShadow calls it takes at once (default 1: each awaited before the next). */
  readonly parallelWrites?: number
  /**
   * Rows it also takes already encoded (by the folding threads, src/replay/encoded-rows.ts), in
   * this encoding; a write counts against parallelWrites like writeShadow.
   */
  readonly encodedWrites?: { encoding: RowEncoding; write(rows: EncodedRows): Promise<void> }
  /** Puts the shadow in place of the live table in one transaction; the old one is dropped or kept. */
  swapShadow(options: { keepOld: boolean }): Promise<{ kept?: string }>
  dropShadow(): Promise<void>
  /** Tables kept by earlier swaps (`--keep-old`), newest first. */
  keptTables(): Promise<string[]>
  /** Puts a kept table back in place of the live one (one transaction); the live one is kept in turn. */
  restore(kept: string): Promise<{ kept: string }>
}

/**
 * `accounts__es_old_20261125T101500123Z`: where `--keep-old` keeps the replaced table; `_2`, `_3`…
 * appended while `exists` says the name is taken.
 */
export async function keptTableName(
  table: string,
  exists: (name: string) => boolean | Promise<boolean>,
  now = new Date(),
): Promise<string> {
  const base = `${table}__es_old_${now.toISOString().replace(/[-:.]/g, '')}`
  let name = base
  for (let n = 2; await exists(name); n++) name = `${base}_${n}`
  return name
}

export function keptNotFound(name: string, kept: string[], label: string): NotFoundError {
  return new NotFoundError(`no kept table ${name} next to ${label}`, {
    code: 'KEPT_TABLE_NOT_FOUND',
    where: { table: name },
    suggestion: kept.length
      ? `kept tables: ${kept.join(', ')}`
      : 'nothing was kept: rebuild with --keep-old to keep the replaced table',
  })
}

/** A row's aggregate id: its key column as text; a row without one is refused. */
export function rowKey(row: Row, key: string, label: string): string {
  const id = row[key]
  if (id === undefined || id === null) {
    throw new ConfigError(`${label}: a row has no "${key}", the key column`, {
      code: 'READ_MODEL_KEY',
      where: { readModel: label, key },
      suggestion: 'set readModel.key in the config to the column holding the aggregate id',
    })
  }
  return typeof id === 'string' ? id : String(id)
}

/** Rows keyed by their key column as text; a row without a key is refused. */
export function rowsByKey(rows: Iterable<Row>, key: string, label: string): Map<string, Row> {
  const byId = new Map<string, Row>()
  for (const row of rows) byId.set(rowKey(row, key, label), row)
  return byId
}

/**
 * The scan of rows held in memory (HTTP answers, a topic's latest values): sorted by id, with
 * the union of their fields as columns.
 */
export function scanInMemory(rows: ReadonlyMap<string, Row>): RowScan {
  const columns = new Set<string>()
  for (const row of rows.values()) for (const column of Object.keys(row)) columns.add(column)
  const sorted = [...rows].sort(([a], [b]) => compareIds(a, b))
  return {
    columns: [...columns],
    rows: (async function* () {
      yield* sorted
    })(),
  }
}

/**
 * The in-memory read model: the reference for the contract suite, and what unit tests diff against
 * and rebuild. Rows are copied in and out, as a database would.
 */
export class MemoryReadModel implements RebuildableReadModel {
  readonly label = 'memory'
  readonly shadowName = 'shadow'
  private rows: Map<string, Row>
  private shadow?: Map<string, Row>
  /** Tables kept by `swapShadow({keepOld: true})` and `restore`, by name. */
  private readonly kept = new Map<string, Map<string, Row>>()

  readonly columns: readonly string[]
  readonly key: string
  private readonly listable: boolean
  private readonly required: readonly string[]

  constructor(
    rows: Iterable<[string, Row]> = [],
    options: { columns?: string[]; key?: string; listable?: boolean; required?: string[] } = {},
  ) {
    this.rows = new Map([...rows].map(([id, row]) => [id, { ...row }]))
    this.columns = options.columns ?? []
    this.key = options.key ?? 'id'
    this.listable = options.listable ?? true
    this.required = options.required ?? []
  }

  async scan(): Promise<RowScan | undefined> {
    if (!this.listable) return undefined
    const scan = scanInMemory(new Map([...this.rows].map(([id, row]) => [id, { ...row }])))
    return this.columns.length > 0 ? { ...scan, columns: this.columns } : scan
  }

  async get(ids: readonly string[]): Promise<Map<string, Row>> {
    const found = new Map<string, Row>()
    for (const id of ids) {
      const row = this.rows.get(id)
      if (row !== undefined) found.set(id, { ...row })
    }
    return found
  }

  async createShadow(): Promise<void> {
    this.shadow = new Map()
  }

  async writeShadow(rows: Row[]): Promise<void> {
    if (!this.shadow) throw new Error('writeShadow before createShadow')
    for (const row of rows) {
      const missing = this.required.find((column) => row[column] === undefined || row[column] === null)
      if (missing !== undefined) {
        throw new InvalidDataError(`cannot write ${String(row[this.key])} into memory: ${missing} is required`, {
          code: 'READ_MODEL_WRITE_FAILED',
          where: { aggregateId: row[this.key], column: missing },
        })
      }
    }
    for (const row of rows) this.shadow.set(String(row[this.key]), { ...row })
  }

  async swapShadow(options: { keepOld: boolean }): Promise<{ kept?: string }> {
    if (!this.shadow) throw new Error('swapShadow before createShadow')
    const kept = options.keepOld ? this.keep(this.rows) : undefined
    this.rows = this.shadow
    this.shadow = undefined
    return kept === undefined ? {} : { kept }
  }

  async keptTables(): Promise<string[]> {
    return [...this.kept.keys()].reverse()
  }

  async restore(name: string): Promise<{ kept: string }> {
    const rows = this.kept.get(name)
    if (!rows) throw new NotFoundError(`no kept table ${name}`, { code: 'KEPT_TABLE_NOT_FOUND' })
    this.kept.delete(name)
    const kept = this.keep(this.rows)
    this.rows = rows
    return { kept }
  }

  private keep(rows: Map<string, Row>): string {
    const name = `kept-${this.kept.size + 1}-${Date.now()}`
    this.kept.set(name, rows)
    return name
  }

  async dropShadow(): Promise<void> {
    this.shadow = undefined
  }

  /** Whether a shadow is being built (tests: a failed rebuild leaves none). */
  get building(): boolean {
    return this.shadow !== undefined
  }

  async close(): Promise<void> {}
}
