/**
 * Rows as PostgreSQL `COPY … FROM STDIN` text: how `es rebuild-projection` fills a shadow table.
 * Pure (no connection), so the folding threads can encode their own rows (src/replay/encoded-rows.ts)
 * and the main thread only streams the text.
 */
import { prepareValue } from 'pg/lib/utils.js'
import type { Row } from './row.js'

/** How a target takes rows already encoded: the one encoding es has today. */
export type RowEncoding = 'postgres-copy'

/** A batch of rows as COPY text of `columns`, one line per row. */
export interface EncodedRows {
  columns: string[]
  text: string
  /** Rows (lines) in `text`. */
  count: number
  /** The key of the first row, for messages. */
  firstKey: unknown
}

/** `rows` as one COPY batch of every column some row has (in the order first seen). */
export function encodeCopyRows(rows: readonly Row[], key: string): EncodedRows {
  const columns = columnsOf(rows)
  return { columns, text: copyLines(rows, columns), count: rows.length, firstKey: rows[0]?.[key] }
}

/** Every column some row has, in the order first seen. */
function columnsOf(rows: readonly Row[]): string[] {
  const columns = new Set<string>()
  for (const row of rows) for (const column in row) columns.add(column)
  return [...columns]
}

/**
 * COPY … FROM STDIN text of `rows`: each value as the text node-postgres would bind as a
 * parameter, so a column reads exactly what an INSERT would give it, at a fraction of the cost.
 */
function copyLines(rows: readonly Row[], columns: readonly string[]): string {
  let text = ''
  for (const row of rows) {
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) text += '\t'
      text += copyText(row[columns[i]])
    }
    text += '\n'
  }
  return text
}

/** A value in COPY's text format: node-postgres's parameter text, escaped; null as `\\N`. */
function copyText(value: unknown): string {
  // The common cases first, as prepareValue gives them (its `toString()`).
  if (typeof value === 'string') return escapeCopy(value)
  if (typeof value === 'number' || typeof value === 'boolean') return value.toString()
  const prepared = prepareValue(postgresValue(value))
  if (prepared === null || prepared === undefined) return '\\N'
  // Bytes go as bytea's hex text (a parameter would send them in binary).
  const text = Buffer.isBuffer(prepared) ? `\\x${prepared.toString('hex')}` : String(prepared)
  return escapeCopy(text)
}

function escapeCopy(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIALS, (char) => COPY_ESCAPES[char]) : text
}

const COPY_SPECIAL = /[\\\n\r\t]/
const COPY_SPECIALS = /[\\\n\r\t]/g
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** Values node-postgres binds as the column expects: objects and arrays as JSON text, not PG arrays. */
function postgresValue(value: unknown): unknown {
  if (value === undefined) return null
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    return JSON.stringify(value)
  }
  return value
}
