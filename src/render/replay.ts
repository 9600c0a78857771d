/**
 * `es replay` for people: the summary on stderr, and the `--trace` lines and an aggregate's state
 * on stdout.
 */
import type { ChalkInstance } from 'chalk'
import { describeFailureGroup } from '../codecs/failure-summary.js'
import type { ReducerEvent } from '../replay/reducer.js'
import type { ReplayServiceResult } from '../replay/replay-service.js'
import type { Output } from './output.js'
import { formatDuration, formatRate } from './progress.js'
import { describeReach } from './summary.js'

/** One `--trace` line: the event (where it is, its type, version, payload) and the state after it. */
export function traceLine(event: ReducerEvent, state: unknown): string {
  const { type, version, topic, partition, offset, payload } = event
  return JSON.stringify({ type, version, topic, partition, offset, payload, state })
}

/** The state of `--aggregate` on stdout, then the summary on stderr. */
export function showReplay(out: Output, result: ReplayServiceResult): void {
  if ('aggregateState' in result) out.data(JSON.stringify(result.aggregateState))
  for (const line of describeReplay(result, out.paint)) out.info(line)
}

function describeReplay(result: ReplayServiceResult, paint: ChalkInstance): string[] {
  const count = (n: number) => n.toLocaleString('en-US')
  const lines = [
    `${paint.green('replayed')} ${count(result.events)} events into ${count(result.aggregates)} aggregates in ${formatDuration(result.durationMs)} (${formatRate(result.eventsPerSecond)}${result.workers > 1 ? `, ${result.workers} threads` : ''})${result.resumed ? ', resumed from stored offsets' : ''}`,
    `${result.complete ? 'complete at' : 'stopped at'} ${describeReach(result.partitions)}`,
    `state: ${result.state}${result.out ? `; written to ${result.out.file === '-' ? 'stdout' : result.out.file}` : ''}`,
  ]
  if (result.skippedCount > 0) {
    lines.push(paint.yellow(`skipped ${result.skippedCount} undecodable records:`))
    for (const s of result.skipped.slice(0, 20)) lines.push(`  ${s.topic}/${s.partition}@${s.offset}: ${s.reason}`)
    if (result.skippedCount > 20) lines.push(`  … ${result.skippedCount - 20} more (all in --json output up to 1000)`)
    const partial = result.skippedCount > result.skipped.length ? ` (of the first ${result.skipped.length})` : ''
    lines.push(paint.yellow(`undecodable by type and schema${partial}:`))
    for (const group of result.failures ?? []) lines.push(`  ${describeFailureGroup(group)}`)
  }
  return lines
}
