/**
 * States as table rows for `es rebuild-projection`: each state field goes to the column of the
 * same name (case, `_` and `-` ignored: `updatedAt` → `updated_at`) or of `readModel.columns`; the
 * key column gets the aggregate id when no field fills it. The same matching as `es diff`, so a
 * rebuilt table diffs clean. Pure.
 */
import { normalizeName, type Row } from '../read-models/row.js'

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

export function toTableRows(states: Iterable<[string, unknown]>, table: TableMapping): TableRows {
  const byName = new Map(table.columns.map((c) => [normalizeName(c), c]))
  const known = new Set(table.columns)
  const unmapped = new Set<string>()
  const rows: Row[] = []
  for (const [id, state] of states) {
    const fields =
      state !== null && typeof state === 'object' && !Array.isArray(state)
        ? (state as Record<string, unknown>)
        : { value: state }
    const row: Row = {}
    for (const [field, value] of Object.entries(fields)) {
      const mapped = table.mapping?.[field]
      const column = mapped !== undefined && known.has(mapped) ? mapped : byName.get(normalizeName(field))
      if (column === undefined) unmapped.add(field)
      else row[column] = value
    }
    if (row[table.key] === undefined || row[table.key] === null) row[table.key] = id
    rows.push(row)
  }
  return { rows, unmapped: [...unmapped].sort() }
}
