/**
 * `es rebuild-projection` for people: the plan (on stdout for --dry-run, on stderr before the
 * question otherwise) and the outcome lines.
 */
import type { ChalkInstance } from 'chalk'
import type { RebuildPlan, RebuildResult } from '../rebuild/rebuild-service.js'
import { formatDuration, formatRate } from './progress.js'
import { describeReach } from './summary.js'

export function describePlan(plan: RebuildPlan): string {
  if (plan.restore) {
    return [
      `roll back projection ${plan.projection}`,
      `  target     ${plan.target}`,
      `  put back   ${plan.restore} (kept by an earlier rebuild)`,
      '  current    kept under a new name (roll back again to undo)',
    ].join('\n')
  }
  const lines = [
    `rebuild projection ${plan.projection}`,
    `  reducer    ${plan.reducer}`,
    `  replay     ${plan.events.toLocaleString('en-US')} events: ${describeRanges(plan.partitions)}`,
    `  time span  ${plan.from && plan.until ? `${plan.from} → ${plan.until}` : '(no events)'}`,
    `  target     ${plan.target}, built as ${plan.shadow} and swapped in`,
    `  old table  ${plan.keepOld ? 'kept (renamed)' : 'dropped after the swap'}`,
  ]
  if (plan.handoff) {
    const committed = plan.handoff.committed.map((c) => `${c.topic}/${c.partition}@${c.offset ?? 'none'}`).join(', ')
    lines.push(
      `  handoff    group ${plan.handoff.group} (${plan.handoff.state}, ${plan.handoff.members} members), committed ${committed || 'nothing'} → the replay's end offsets`,
    )
  }
  return lines.join('\n')
}

/** `bank.events/2 0→5, bank.events/3 0→7 (2 empty partitions)`. */
function describeRanges(partitions: RebuildPlan['partitions']): string {
  const busy = partitions.filter((p) => p.end > p.start)
  const empty = partitions.length - busy.length
  const text = busy.map((p) => `${p.topic}/${p.partition} ${p.start}→${p.end}`).join(', ')
  if (empty === 0) return text
  return `${text}${text ? ' ' : ''}(${empty} empty ${empty === 1 ? 'partition' : 'partitions'})`
}

/** What happened, as status lines for stderr. */
export function describeRebuild(result: RebuildResult, dryRun: boolean, paint: ChalkInstance): string[] {
  if (!result.rebuilt) return [dryRun ? 'dry run: nothing was changed' : 'cancelled: nothing was changed']
  if (result.restored) {
    return [
      `${paint.green('rolled back')} ${result.plan.target}: ${result.restored} is live again; the replaced table is kept as ${result.kept}`,
    ]
  }
  const replay = result.replay!
  const rows = result.rows ?? 0
  const lines = [
    `${paint.green('rebuilt')} ${result.plan.target}: ${rows.toLocaleString('en-US')} ${rows === 1 ? 'row' : 'rows'} from ${replay.events.toLocaleString('en-US')} events in ${formatDuration(replay.durationMs)} (${formatRate(replay.eventsPerSecond)}), up to ${describeReach(replay.partitions)}`,
    result.kept ? `old table kept as ${result.kept}` : 'old table dropped',
  ]
  if (result.unmapped?.length) lines.push(`not written (no such column): ${result.unmapped.join(', ')}`)
  if (result.handoff) {
    const offsets = result.handoff.offsets.map((o) => ({ ...o, reached: o.offset }))
    lines.push(`consumer group ${result.handoff.group} now starts at ${describeReach(offsets)}`)
  }
  if (replay.skippedCount > 0)
    lines.push(paint.yellow(`skipped ${replay.skippedCount} undecodable records (see --json)`))
  return lines
}
