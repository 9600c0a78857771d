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
