/**
 * Short texts for the summaries commands print on stderr.
 */

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
