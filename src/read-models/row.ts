/**
 * A read-model row and how its column names meet state field names; shared by the read models,
 * `es diff` (which compares rows with states) and `es rebuild-projection` (which writes them).
 */

/** One row of a read model, by column (or JSON field) name. */
export type Row = Record<string, unknown>

/** `updatedAt`, `updated_at`, `Updated-At` → `updatedat`: how state fields find their columns. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '')
}

/** Rows that stand for a record the read model holds but that could not be decoded: why. */
const undecodable = new WeakMap<Row, string>()

/** A row for an undecodable record: `raw` as its only column, `error` kept beside it. */
export function undecodableRow(error: string, raw: unknown): Row {
  const row: Row = { raw }
  undecodable.set(row, error)
  return row
}

/** Why the row's record could not be decoded; undefined for an ordinary row. */
export function rowDecodeError(row: Row): string | undefined {
  return undecodable.get(row)
}
