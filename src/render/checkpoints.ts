/**
 * `es checkpoints` for people: the partitions table (committed or stored offsets against the
 * log), its summary line, and the plan of a reset.
 */
import type { ChalkInstance } from 'chalk'
import type {
  CheckpointPartition,
  CheckpointsReport,
  ProjectionCheckpointsReport,
} from '../checkpoints/checkpoints-service.js'
import type { Output } from './output.js'
import { renderGrid } from './table.js'

const count = (n: number) => n.toLocaleString('en-US')

function statusText(paint: ChalkInstance, p: CheckpointPartition): string {
  const s = p.status
  const shown = s === 'past-end' || s === 'below-start' ? paint.red(s) : s === 'behind' ? paint.yellow(s) : s
  return shown + (p.lost ? ` (${count(p.lost)} lost)` : '')
}

function offsetCells(paint: ChalkInstance, p: CheckpointPartition): string[] {
  return [
    p.topic,
    String(p.partition),
    p.committed === null ? '—' : String(p.committed),
    String(p.start),
    String(p.end),
    p.lag === null ? '—' : count(p.lag),
    statusText(paint, p),
    p.committedAt ?? '',
    p.newestAt ?? '',
  ]
}

const OFFSET_HEADINGS = [
  'topic',
  'partition',
  'committed',
  'log start',
  'log end',
  'lag',
  'status',
  'last consumed',
  'newest',
]

function lagOf(partitions: CheckpointPartition[]): number {
  return partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0)
}

/** A consumer group's checkpoints: the table (data), its summary line, and the plan of a reset. */
export function showGroupCheckpoints(out: Output, report: CheckpointsReport): void {
  const { table, summary } = renderGroupCheckpoints(report, out.paint)
  out.data(table)
  out.info(summary)
  if (report.reset) out.data(renderResetPlan(report.reset, out.paint))
}

/** A projector's offsets kept in its read model: the table (data) and the summary lines. */
export function showProjectionCheckpoints(out: Output, report: ProjectionCheckpointsReport): void {
  const { table, summary } = renderProjectionCheckpoints(report, out.paint)
  out.data(table)
  for (const line of summary) out.info(line)
}

function renderGroupCheckpoints(report: CheckpointsReport, paint: ChalkInstance): { table: string; summary: string } {
  const members = `${report.members} ${report.members === 1 ? 'member' : 'members'}`
  return {
    table: renderGrid(
      paint,
      OFFSET_HEADINGS,
      report.partitions.map((p) => offsetCells(paint, p)),
    ),
    summary: `group ${report.group} (${report.state}, ${members}): ${count(lagOf(report.partitions))} events behind${report.unsafe ? `; ${paint.red('unsafe checkpoint')}: the group will skip or repeat events` : ''}`,
  }
}

/** The plan of a reset: per partition, what moving the committed offset does. */
function renderResetPlan(reset: NonNullable<CheckpointsReport['reset']>, paint: ChalkInstance): string {
  return renderGrid(
    paint,
    ['topic', 'partition', 'committed', 'reset to', 'effect', 'events from', 'events until'],
    reset.rows.map((r) => [
      r.topic,
      String(r.partition),
      r.committed === null ? '—' : String(r.committed),
      String(r.target),
      r.replayed === null
        ? 'first commit'
        : r.replayed > 0
          ? `${count(r.replayed)} events read again`
          : r.replayed < 0
            ? `${count(-r.replayed)} events skipped`
            : 'unchanged',
      r.from ?? '',
      r.until ?? '',
    ]),
  )
}

/** After a reset's plan: applied, declined at the prompt (`asked`), or a dry run. */
export function describeResetOutcome(
  reset: NonNullable<CheckpointsReport['reset']>,
  asked: boolean,
  paint: ChalkInstance,
): string {
  if (reset.executed) return paint.green('offsets reset')
  return asked ? 'cancelled: nothing was changed' : 'dry run: nothing was changed (add --yes to apply)'
}

/** The table of a projector's offsets (with the group's, when compared) and the summary. */
function renderProjectionCheckpoints(
  report: ProjectionCheckpointsReport,
  paint: ChalkInstance,
): { table: string; summary: string[] } {
  const headings = report.group ? [...OFFSET_HEADINGS, 'group committed'] : OFFSET_HEADINGS
  const rows = report.partitions.map((p) => {
    const cells = offsetCells(paint, p)
    if (!p.group) return cells
    const committed = p.group.committed === null ? '—' : String(p.group.committed)
    return [...cells, p.group.committed === p.committed ? committed : paint.yellow(committed)]
  })
  const summary = [
    `projection ${report.projection}, offsets stored in ${report.readModel}: ${count(lagOf(report.partitions))} events behind${report.unsafe ? `; ${paint.red('unsafe checkpoint')}: the projector will skip or repeat events` : ''}`,
  ]
  if (report.group) {
    const { group, state, members } = report.group
    summary.push(
      report.differing === 0
        ? `consumer group ${group} (${state}, ${members} members) has committed the same offsets`
        : `consumer group ${group} (${state}, ${members} members) differs on ${report.differing} ${report.differing === 1 ? 'partition' : 'partitions'}: a projector that restarts from the group's offsets would read other events than its read model holds`,
    )
  }
  return { table: renderGrid(paint, headings, rows), summary }
}
