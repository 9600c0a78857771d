/**
 * States as table rows for `es rebuild-projection`: each state field goes to the column of the
 * same name (case, `_` and `-` ignored: `updatedAt` → `updated_at`) or of `readModel.columns`; the
 * key column gets the aggregate id when no field fills it. The same matching as `es diff`, so a
 * rebuilt table diffs clean. Pure.
 */
import { normalizeName, type Row } from './row.js'

export interface TableMapping {
  columns: readonly string[]
  key: string
  /** State field → column, where names differ. */
  mapping?: Readonly<Record<string, string>>
}

export interface TableRows {
  rows: Row[]
  /** State fields without a column (not written). */
  unmapped: string[]
}

/**
 * `entries` as batches of at most `batchRows` table rows, in order; the fields without a column
 * are added to `unmapped`. The batching of a rebuild's rows, on the main thread and in the fold
 * threads alike.
 */
export function* tableRowBatches(
  entries: Iterable<[string, unknown]>,
  table: TableMapping,
  batchRows: number,
  unmapped: Set<string>,
): Generator<Row[]> {
  let batch: Array<[string, unknown]> = []
  const rowsOf = () => {
    const { rows, unmapped: fields } = toTableRows(batch, table)
    for (const field of fields) unmapped.add(field)
    batch = []
    return rows
  }
  for (const entry of entries) {
    batch.push(entry)
    if (batch.length >= batchRows) yield rowsOf()
  }
  if (batch.length > 0) yield rowsOf()
}

export function toTableRows(states: Iterable<[string, unknown]>, table: TableMapping): TableRows {
  const column = columnOf(table)
  const unmapped = new Set<string>()
  const rows: Row[] = []
  for (const [id, state] of states) {
    const fields =
      state !== null && typeof state === 'object' && !Array.isArray(state)
        ? (state as Record<string, unknown>)
        : { value: state }
    const row: Row = {}
    for (const field in fields) {
      if (!Object.hasOwn(fields, field)) continue
      const name = column(field)
      if (name === undefined) unmapped.add(field)
      else row[name] = fields[field]
    }
    if (row[table.key] === undefined || row[table.key] === null) row[table.key] = id
    rows.push(row)
  }
  return { rows, unmapped: [...unmapped].sort() }
}

/**
 * Field → column, resolved once per field name (states of a projection share their few field
 * names; normalising each field of each state was most of the cost of a rebuild's rows).
 */
function columnOf(table: TableMapping): (field: string) => string | undefined {
  const byName = new Map(table.columns.map((c) => [normalizeName(c), c]))
  const known = new Set(table.columns)
  const resolved = new Map<string, string | undefined>()
  return (field) => {
    let column = resolved.get(field)
    if (column === undefined && !resolved.has(field)) {
      const mapped = table.mapping?.[field]
      column = mapped !== undefined && known.has(mapped) ? mapped : byName.get(normalizeName(field))
      resolved.set(field, column)
    }
    return column
  }
}
