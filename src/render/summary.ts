/**
 * Short texts for the summaries commands print on stderr.
 */
import { keyNotFoundMessage, type PartitionerName } from '../kafka/partitioner.js'

/** `bank.events 0:120 1:98 2:0` — the offset each partition was read up to. */
export function describeReach(
  ranges: Array<{ topic: string; partition: number; end?: number; reached?: number }>,
): string {
  const byTopic = new Map<string, string[]>()
  for (const range of ranges) {
    const offset = range.reached ?? range.end
    const list = byTopic.get(range.topic) ?? []
    list.push(`${range.partition}:${offset ?? '?'}`)
    byTopic.set(range.topic, list)
  }
  return [...byTopic].map(([topic, parts]) => `${topic} ${parts.join(' ')}`).join('; ')
}

/**
 * After a complete read of the partitions keys hash to: one warning per key no record had, which
 * suggests the partitioner is not the producer's.
 */
export function keysNotFound(summary: {
  complete: boolean
  keyPartitions?: {
    partitioner: PartitionerName
    narrowed: Array<{ topic: string; partition: number }>
    unseen: string[]
  }
}): string[] {
  const keyed = summary.keyPartitions
  if (!summary.complete || !keyed) return []
  return keyed.unseen.map((key) => keyNotFoundMessage(key, keyed.partitioner, keyed.narrowed))
}
