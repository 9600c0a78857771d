/**
 * Tables for people (cli-table3 lives only here). Object values spread into one column per
 * top-level field (the union over rows, in first-seen order); anything else is one `value` column.
 */
import type { ChalkInstance } from 'chalk'
import Table from 'cli-table3'
import { escapeControl } from './escape.js'
import { toJsonSafe } from './records.js'

export interface TableOptions {
  paint: ChalkInstance
  /** Leading columns, e.g. `key`. */
  leading: Array<{ title: string; value: (row: number) => string }>
  values: unknown[]
  /** Trailing columns, e.g. partition@offset. */
  trailing?: Array<{ title: string; value: (row: number) => string }>
  maxFieldColumns?: number
}

export function renderTable(options: TableOptions): string {
  const { paint, values } = options
  const objects = values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))
  const fields: string[] = []
  if (objects) {
    for (const value of values) {
      for (const field of Object.keys(value as object)) if (!fields.includes(field)) fields.push(field)
    }
  }
  const max = options.maxFieldColumns ?? 8
  const shownFields = fields.slice(0, max)
  const overflow = fields.length > max
  const head = [
    ...options.leading.map((c) => c.title),
    ...(objects ? shownFields : ['value']),
    ...(overflow ? ['…'] : []),
    ...(options.trailing ?? []).map((c) => c.title),
  ]
  const table = new Table({
    head: head.map((h) => paint.bold(h)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  })
  values.forEach((value, row) => {
    const cells = options.leading.map((c) => c.value(row))
    if (objects) {
      const record = value as Record<string, unknown>
      for (const field of shownFields) cells.push(cell(record[field]))
      if (overflow) {
        const rest = Object.fromEntries(Object.entries(record).filter(([f]) => !shownFields.includes(f)))
        cells.push(Object.keys(rest).length ? cell(rest) : '')
      }
    } else {
      cells.push(cell(value))
    }
    for (const c of options.trailing ?? []) cells.push(paint.dim(c.value(row)))
    table.push(cells)
  })
  return table.toString()
}

/** A plain grid: a header and rows of cells, each value shown as `cell` shows it. */
export function renderGrid(paint: ChalkInstance, head: string[], rows: unknown[][]): string {
  const table = new Table({
    head: head.map((h) => paint.bold(h)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  })
  for (const row of rows) table.push(row.map((value) => (typeof value === 'string' ? value : cell(value))))
  return table.toString()
}

/** A value in a cell: text as it is, the rest as JSON cut at 60 characters. */
export function cell(value: unknown): string {
  if (value === undefined) return ''
  if (value === null) return 'null'
  // Data meant for people: control characters escaped (JSON.stringify leaves DEL and C1 as they are).
  if (typeof value === 'string') return escapeControl(value)
  const text = escapeControl(JSON.stringify(toJsonSafe(value)))
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}
