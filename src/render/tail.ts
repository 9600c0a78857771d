/**
 * What `es tail` says on stderr once it has read: records the filters could not judge, filters
 * that matched nothing, and, for a bounded read, what was shown and where each partition ended.
 */
import { describeFailureGroup } from '../codecs/failure-summary.js'
import type { TailSummary } from '../tail/run.js'
import type { Output } from './output.js'
import { describeReach, keysNotFound } from './summary.js'

export function renderTailSummary(out: Output, summary: TailSummary, bounded: boolean): void {
  if (summary.hiddenUndecodable > 0) {
    out.warn(
      `${summary.hiddenUndecodable} undecodable records were not shown: --type/--where cannot judge them (run without those filters to see them)`,
    )
  }
  for (const notice of summary.notices) {
    const fields = notice.fields.length ? notice.fields.join(', ') : '(none)'
    out.warn(
      `${notice.filter} matched nothing: no record read has ${notice.missing}; ${notice.under ? `fields seen under ${notice.under}` : 'top-level fields seen'}: ${fields}`,
    )
  }
  if (bounded) {
    out.info(
      `${summary.shown} of ${summary.read} records shown${summary.undecodable ? `, ${summary.undecodable} undecodable` : ''}; ${summary.complete ? `complete at ${describeReach(summary.ranges)}` : 'stopped early'}`,
    )
    for (const group of summary.failures) out.warn(describeFailureGroup(group))
  }
  for (const line of keysNotFound(summary)) out.warn(line)
}
