/**
 * `es diff` details as a table: one line per differing field, per missing or extra aggregate.
 */
import type { ChalkInstance } from 'chalk'
import type { AggregateDrift } from '../diff/compare.js'
import type { DiffReport } from '../diff/diff-service.js'
import { formatDuration } from './progress.js'
import { describeReach } from './summary.js'
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
      case 'undecodable':
        rows.push([
          drift.aggregateId,
          paint.red('undecodable'),
          '',
          drift.expected === undefined ? paint.dim('(no state)') : cell(drift.expected),
          paint.red(drift.error),
        ])
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

/** The verdict and what else a person needs to read the drift table, as status lines. */
export function describeDiff(report: DiffReport, paint: ChalkInstance): string[] {
  const { counts, replay } = report
  const count = (n: number) => n.toLocaleString('en-US')
  const drifted = counts.missing + counts.extra + counts.changed + counts.undecodable
  const verdict = report.drift
    ? paint.red(`drift in ${count(drifted)} ${drifted === 1 ? 'aggregate' : 'aggregates'}`)
    : paint.green('no drift')
  const lines = [
    `${verdict}: ${counts.missing} missing in the read model, ${counts.extra} extra${counts.readModel === null ? ' (not listable: unknown)' : ''}, ${counts.changed} changed${counts.undecodable ? `, ${counts.undecodable} undecodable` : ''}; ${count(counts.compared)} of ${count(counts.replayed)} replayed aggregates compared with ${report.readModel}`,
  ]
  if (drifted > report.details.length) lines.push(`showing ${report.details.length} of ${drifted} (--limit)`)
  if (counts.ahead > 0) {
    lines.push(
      `${counts.ahead} rows are ahead of the replay (a higher version: written after its end), not counted as drift: ${report.aheadIds.slice(0, 5).join(', ')}${counts.ahead > 5 ? ', …' : ''}`,
    )
  }
  if (report.unmapped.length > 0) {
    lines.push(`not compared (no such column in the read model): ${report.unmapped.join(', ')}`)
  }
  lines.push(
    `replayed ${count(replay.events)} events in ${formatDuration(replay.durationMs)}${replay.resumed ? ' (continued from the state file)' : ''}, up to ${describeReach(replay.partitions)}`,
  )
  return lines
}
