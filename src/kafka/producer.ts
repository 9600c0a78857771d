/**
 * Producing records for `es send-command`: an idempotent producer (acks from all in-sync
 * replicas, one request in flight), so that retries never reorder or duplicate. kafkajs is loaded
 * lazily; connecting fails within the connection timeout with UnreachableError (exit 4).
 */
import type { ICustomPartitioner } from 'kafkajs'
import type { KafkaConnection } from '../config/types.js'
import { NotFoundError } from '../errors.js'
import { loadTopics, openCluster } from './cluster.js'
import { type ClientOptions, connectWithin, kafkaClientConfig, toEsError } from './connection.js'
import { ConnectionWatch } from './connection-watch.js'
import { loadKafkajsInternals } from './kafkajs-internals.js'
import { type PartitionerName, producerPartitioner } from './partitioner.js'
import type { HeaderPair } from './produce-request.js'

export interface OutgoingRecord {
  topic: string
  key: Buffer | null
  value: Buffer | null
  /** A list of pairs keeps order, repeats and nulls (produce-request.ts writes it as it is). */
  headers: Record<string, string> | HeaderPair[]
  /** Epoch ms; the broker's append time when the topic uses LogAppendTime. */
  timestamp?: number
}

export interface ProducedRecord {
  topic: string
  partition: number
  offset: number
}

/** An idempotent producer connected to one topic that exists, and its partition count. */
export interface TopicProducer {
  partitions: number
  /** Produces in order (one request in flight); `partition` set: to that partition. */
  send(records: Array<OutgoingRecord & { partition?: number }>): Promise<ProducedRecord[]>
  close(): Promise<void>
}

export async function openTopicProducer(
  connection: KafkaConnection,
  topic: string,
  options: ClientOptions & { createPartitioner?: ICustomPartitioner; compression?: number } = {},
): Promise<TopicProducer> {
  const watch = new ConnectionWatch(connection)
  const config = kafkaClientConfig(connection, { ...options, watch })
  // One connection: its first Metadata request asks for this topic only (the producer's
  // InitProducerId then finds it fresh, and its send asks for no more).
  const { cluster, logger } = openCluster(config, { maxInFlightRequests: 1 })
  const producer = loadKafkajsInternals().createProducer({
    cluster,
    logger,
    retry: config.retry,
    idempotent: true,
    createPartitioner: options.createPartitioner,
  })
  const fail = (error: unknown): never => {
    if (/does not host this topic-partition|UNKNOWN_TOPIC/i.test(String((error as Error).message))) {
      throw new NotFoundError(`topic "${topic}" does not exist`, {
        code: 'TOPIC_NOT_FOUND',
        where: { topic },
        suggestion: 'check the service streams in the config, or create the topic',
      })
    }
    throw toEsError(error, connection, `producing to ${topic}`)
  }
  const connected = async () => {
    await cluster.connect()
    await loadTopics(cluster, [topic])
    await producer.connect()
  }
  let partitions: number
  try {
    await connectWithin(connection, watch, connected(), () => producer.disconnect())
    partitions = cluster.findTopicPartitionMetadata(topic).length
  } catch (error) {
    await producer.disconnect().catch(() => {})
    return fail(error)
  }
  return {
    partitions,
    async send(records) {
      try {
        const metadata = await producer.send({
          topic,
          acks: -1,
          compression: options.compression,
          messages: records.map((record) => ({
            key: record.key,
            value: record.value,
            headers: record.headers as Record<string, string>,
            partition: record.partition,
            timestamp: record.timestamp === undefined ? undefined : String(record.timestamp),
          })),
        })
        return metadata.map((m) => ({
          topic: m.topicName,
          partition: m.partition,
          offset: Number(m.baseOffset ?? m.offset),
        }))
      } catch (error) {
        return fail(error)
      }
    },
    close: () => producer.disconnect().catch(() => {}),
  }
}

export async function produceRecord(
  connection: KafkaConnection,
  record: OutgoingRecord,
  options: ClientOptions & { partitioner?: PartitionerName } = {},
): Promise<ProducedRecord> {
  const producer = await openTopicProducer(connection, record.topic, options)
  try {
    const partition = producerPartitioner(options.partitioner ?? 'none', producer.partitions)(record.key)
    const [produced] = await producer.send([{ ...record, partition }])
    return produced
  } finally {
    await producer.close()
  }
}

/** A record of `es produce`: headers in order (repeats, nulls), an explicit partition or none. */
export interface BatchRecord {
  key: Buffer | null
  value: Buffer | null
  headers: HeaderPair[]
  partition?: number
  timestamp?: number
}

export interface BatchOptions extends ClientOptions {
  /** kafkajs's compression type (see producer-compression.ts). */
  compression?: number
  /** Called with the topic's partition count before anything is produced: throws to refuse. */
  check?: (partitions: number) => void
  /** Records per produce request. */
  chunk?: number
}

export interface ProducedPartition {
  partition: number
  records: number
  firstOffset: number
  lastOffset: number
}

/**
 * Produces `records` in their order with the idempotent producer (acks from all in-sync
 * replicas, one request in flight: no reordering, no duplicates on retry). The topic must exist;
 * `check` sees its partition count first, so a bad partition produces nothing.
 */
export async function produceRecords(
  connection: KafkaConnection,
  topic: string,
  records: BatchRecord[],
  options: BatchOptions = {},
): Promise<ProducedPartition[]> {
  const producer = await openTopicProducer(connection, topic, options)
  try {
    options.check?.(producer.partitions)
    // Records without a partition are placed here, as kafkajs's default partitioner would place
    // them, so that the counts per partition are known.
    const partitionOfKey = producerPartitioner('murmur2', producer.partitions)
    const produced = new Map<number, ProducedPartition>()
    const chunk = options.chunk ?? 500
    for (let at = 0; at < records.length; at += chunk) {
      const outgoing = records.slice(at, at + chunk).map((r) => ({
        topic,
        key: r.key,
        value: r.value,
        headers: r.headers,
        partition: r.partition ?? partitionOfKey(r.key),
        timestamp: r.timestamp,
      }))
      // Per partition, the records of one request get consecutive offsets from its base offset.
      const counts = new Map<number, number>()
      for (const r of outgoing) counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1)
      for (const sent of await producer.send(outgoing)) {
        const n = counts.get(sent.partition) ?? 0
        const entry = produced.get(sent.partition) ?? {
          partition: sent.partition,
          records: 0,
          firstOffset: sent.offset,
          lastOffset: sent.offset,
        }
        entry.records += n
        entry.lastOffset = sent.offset + Math.max(0, n - 1)
        produced.set(sent.partition, entry)
      }
    }
    return [...produced.values()].sort((a, b) => a.partition - b.partition)
  } finally {
    await producer.close()
  }
}
