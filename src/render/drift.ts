/**
 * `es diff` details as a table: one line per differing field, per missing or extra aggregate.
 */
import type { ChalkInstance } from 'chalk'
import type { AggregateDrift } from '../diff/compare.js'
import { cell, renderGrid } from './table.js'

export function renderDrift(details: AggregateDrift[], paint: ChalkInstance): string {
  const rows: unknown[][] = []
  for (const drift of details) {
    switch (drift.kind) {
      case 'missing':
        rows.push([drift.aggregateId, paint.red('missing'), '', cell(drift.expected), paint.dim('(no row)')])
        break
      case 'extra':
        rows.push([drift.aggregateId, paint.yellow('extra'), '', paint.dim('(no state)'), cell(drift.actual)])
        break
      case 'changed':
        for (const field of drift.fields) {
          const name =
            field.column === null
              ? `${field.field} (no value)`
              : field.column === field.field
                ? field.field
                : `${field.field} → ${field.column}`
          rows.push([drift.aggregateId, paint.magenta('changed'), name, cell(field.expected), cell(field.actual)])
        }
        break
    }
  }
  return renderGrid(paint, ['aggregate', 'drift', 'field', 'replayed', 'read model'], rows)
}
