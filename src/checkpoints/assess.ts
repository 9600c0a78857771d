/**
 * Checkpoint safety, pure: a consumer group's committed offsets against each partition's log.
 * - `past-end`: committed beyond the log end: the topic was truncated or recreated, and the
 *   consumer will silently reset (skip or re-read everything, per auto.offset.reset);
 * - `below-start`: committed below the log start: events were deleted by retention before the
 *   group read them (`lost` of them);
 * - `behind`: events wait to be consumed (`lag`); `current`: at the end; `none`: nothing committed.
 */

export type CheckpointStatus = 'current' | 'behind' | 'past-end' | 'below-start' | 'none'

export interface PartitionLog {
  topic: string
  partition: number
  /** First offset still in the log. */
  start: number
  /** Last stable offset. */
  end: number
}

export interface CheckpointRow extends PartitionLog {
  committed: number | null
  status: CheckpointStatus
  /** Events between the committed offset and the end (from the log start when below it). */
  lag: number | null
  /** Events deleted before the group read them (below-start only). */
  lost?: number
}

/** Problems that make the checkpoint unsafe: the consumer will skip or repeat events. */
export const UNSAFE: ReadonlySet<CheckpointStatus> = new Set(['past-end', 'below-start'])

export function assessCheckpoints(
  logs: PartitionLog[],
  committed: Array<{ topic: string; partition: number; offset: number | null }>,
): CheckpointRow[] {
  const byPartition = new Map(committed.map((c) => [`${c.topic}/${c.partition}`, c.offset]))
  return logs.map((log) => {
    const offset = byPartition.get(`${log.topic}/${log.partition}`) ?? null
    if (offset === null) return { ...log, committed: null, status: 'none', lag: null }
    if (offset > log.end) return { ...log, committed: offset, status: 'past-end', lag: null }
    if (offset < log.start) {
      return { ...log, committed: offset, status: 'below-start', lag: log.end - log.start, lost: log.start - offset }
    }
    const lag = log.end - offset
    return { ...log, committed: offset, status: lag === 0 ? 'current' : 'behind', lag }
  })
}

export interface ResetRow {
  topic: string
  partition: number
  committed: number | null
  target: number
  /** Positive: events read again; negative: events skipped; null: nothing committed before. */
  replayed: number | null
}

/** What moving each partition's committed offset to `targets` does. */
export function planReset(
  committed: Array<{ topic: string; partition: number; offset: number | null }>,
  targets: Array<{ topic: string; partition: number; offset: number }>,
): ResetRow[] {
  const byPartition = new Map(committed.map((c) => [`${c.topic}/${c.partition}`, c.offset]))
  return targets.map((t) => {
    const current = byPartition.get(`${t.topic}/${t.partition}`) ?? null
    return {
      topic: t.topic,
      partition: t.partition,
      committed: current,
      target: t.offset,
      replayed: current === null ? null : current - t.offset,
    }
  })
}
