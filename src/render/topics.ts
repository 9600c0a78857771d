/** `es topics` for people: one row per topic; the summary line names what --all would add. */
import type { ChalkInstance } from 'chalk'
import type { TopicsResult } from '../admin/topics.js'
import { renderGrid } from './table.js'

const count = (n: number) => n.toLocaleString('en-US')

export function renderTopics(paint: ChalkInstance, result: TopicsResult): string {
  return renderGrid(
    paint,
    ['topic', 'partitions', 'replication', 'cleanup', 'earliest', 'latest', 'records ≈', 'last record'],
    result.topics.map((t) => [
      t.internal ? paint.dim(t.name) : t.name,
      String(t.partitions),
      String(t.replicationFactor),
      t.cleanupPolicy,
      t.partitionDetails.map((p) => p.earliest).join(','),
      t.partitionDetails.map((p) => p.latest).join(','),
      count(t.records),
      t.lastRecordAt ?? paint.dim('(empty)'),
    ]),
  )
}

export function topicsSummary(result: TopicsResult): string {
  const hidden = result.hiddenInternal
  return `${result.topics.length} topic${result.topics.length === 1 ? '' : 's'}${hidden ? `; ${hidden} internal hidden (--all shows them)` : ''}`
}
