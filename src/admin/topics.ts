/**
 * `es topics`: every topic with its partitions, replication, cleanup policy, offsets, an
 * approximate record count (latest − earliest: compaction gaps and transaction markers count) and
 * when its last record was written. Metadata and configs come from Kafka's admin API, offsets and
 * last records from the group-less log reader (the same offsets `es tail` reads up to).
 */
import type { KafkaConnection } from '../config/types.js'
import { withAdmin } from '../kafka/admin-client.js'
import type { ClientOptions } from '../kafka/connection.js'
import { KafkaLogReader } from '../kafka/kafka-log-reader.js'
import { importKafkajs } from '../kafka/kafkajs-internals.js'
import type { LogReader } from '../kafka/log-reader.js'
import { isInternalTopic, namePattern } from './name-pattern.js'

export interface TopicPartitionInfo {
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
  /** The log start offset. */
  earliest: number
  /** The end offset (last stable offset: what a read_committed consumer reads up to). */
  latest: number
  /** ISO time of the partition's last record, null when the partition is empty. */
  lastRecordAt: string | null
}

export interface TopicInfo {
  name: string
  internal: boolean
  partitions: number
  replicationFactor: number
  /** `delete`, `compact` or `compact,delete`. */
  cleanupPolicy: string
  /** Sum over partitions of latest − earliest (approximate under compaction and transactions). */
  records: number
  lastRecordAt: string | null
  partitionDetails: TopicPartitionInfo[]
}

export interface TopicsResult {
  topics: TopicInfo[]
  /** Topics matching the pattern that are internal and were left out (shown with --all). */
  hiddenInternal: number
}

export interface ListTopicsOptions {
  pattern?: string
  /** Include internal topics (names starting with `_`). */
  all?: boolean
  client?: ClientOptions
}

/** How many records back from the end are read to find the last one (transaction markers). */
const LAST_RECORD_WINDOW = 8

export async function listTopics(connection: KafkaConnection, options: ListTopicsOptions = {}): Promise<TopicsResult> {
  const reader = new KafkaLogReader(connection, { debug: options.client?.debug })
  try {
    return await describeTopics(connection, reader, options)
  } finally {
    await reader.close()
  }
}

async function describeTopics(
  connection: KafkaConnection,
  reader: Pick<LogReader, 'watermarks' | 'read'>,
  options: ListTopicsOptions,
): Promise<TopicsResult> {
  const matches = namePattern(options.pattern)
  const described = await withAdmin(
    connection,
    'listing topics',
    async (admin) => {
      const names = (await admin.listTopics()).filter(matches).sort()
      if (names.length === 0) return { metadata: [], cleanup: new Map<string, string>() }
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: names })
      const { ConfigResourceTypes } = await importKafkajs()
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: names.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['cleanup.policy'],
        })),
      })
      const cleanup = new Map<string, string>()
      for (const resource of configs.resources) {
        const entry = resource.configEntries.find((e) => e.configName === 'cleanup.policy')
        if (entry) cleanup.set(resource.resourceName, entry.configValue)
      }
      return { metadata, cleanup }
    },
    options.client,
  )
  const shown = described.metadata
    .filter((t) => options.all || !isInternalTopic(t.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const topics = await Promise.all(
    shown.map(async (t): Promise<TopicInfo> => {
      const marks = new Map((await reader.watermarks(t.name)).map((w) => [w.partition, w]))
      const last = await lastRecordTimes(reader, t.name, [...marks.values()])
      const partitionDetails = [...t.partitions]
        .sort((a, b) => a.partitionId - b.partitionId)
        .map((p) => {
          const w = marks.get(p.partitionId)
          const time = last.get(p.partitionId)
          return {
            partition: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            earliest: w?.start ?? 0,
            latest: w?.end ?? 0,
            lastRecordAt: time === undefined ? null : new Date(time).toISOString(),
          }
        })
      const times = [...last.values()]
      return {
        name: t.name,
        internal: isInternalTopic(t.name),
        partitions: partitionDetails.length,
        replicationFactor: Math.max(0, ...partitionDetails.map((p) => p.replicas.length)),
        cleanupPolicy: described.cleanup.get(t.name) ?? 'delete',
        records: partitionDetails.reduce((sum, p) => sum + Math.max(0, p.latest - p.earliest), 0),
        lastRecordAt: times.length ? new Date(Math.max(...times)).toISOString() : null,
        partitionDetails,
      }
    }),
  )
  return { topics, hiddenInternal: described.metadata.length - shown.length }
}

/** Per partition, the timestamp of the last record before the end (absent: no record there). */
async function lastRecordTimes(
  reader: Pick<LogReader, 'read'>,
  topic: string,
  marks: Array<{ partition: number; start: number; end: number }>,
): Promise<Map<number, number>> {
  const ranges = marks
    .filter((m) => m.end > m.start)
    .map((m) => ({ topic, partition: m.partition, start: Math.max(m.start, m.end - LAST_RECORD_WINDOW), end: m.end }))
  const times = new Map<number, number>()
  if (ranges.length === 0) return times
  for await (const batch of reader.read(ranges)) {
    const lastRecord = batch.records[batch.records.length - 1]
    if (lastRecord) times.set(batch.partition, lastRecord.timestamp)
  }
  return times
}
