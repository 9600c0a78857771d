/**
 * Producing records for `es send-command`: an idempotent producer (acks from all in-sync
 * replicas, one request in flight), so that retries never reorder or duplicate. kafkajs is loaded
 * lazily; connecting fails within the connection timeout with UnreachableError (exit 4).
 */
import type { ICustomPartitioner } from 'kafkajs'
import type { KafkaConnection } from '../config/types.js'
import { NotFoundError } from '../errors.js'
import { type ClientOptions, connectWithin, kafkaClientConfig, toEsError } from './connection.js'
import { ConnectionWatch } from './connection-watch.js'
import { topicNotFound } from './log-reader.js'
import { type PartitionerName, producerPartitioner } from './partitioner.js'

export interface OutgoingRecord {
  topic: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, string>
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
  options: ClientOptions & { createPartitioner?: ICustomPartitioner } = {},
): Promise<TopicProducer> {
  const { Kafka } = (await import('kafkajs')).default
  const watch = new ConnectionWatch(connection)
  const kafka = new Kafka(kafkaClientConfig(connection, { ...options, watch }))
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: options.createPartitioner,
  })
  // Whether the topic exists is asked in parallel with connecting the producer: kafkajs would
  // retry an unknown topic's metadata for ~10 s before giving up.
  const admin = kafka.admin()
  const existing = (async () => {
    await admin.connect()
    try {
      // All topics' metadata in one request: whether it exists, and its partitions.
      const { topics } = await admin.fetchTopicMetadata()
      const found = topics.find((t) => t.name === topic)
      if (!found)
        throw topicNotFound(
          topic,
          topics.map((t) => t.name),
        )
      return found.partitions.length
    } finally {
      await admin.disconnect().catch(() => {})
    }
  })()
  existing.catch(() => {})
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
  let partitions: number
  try {
    await connectWithin(connection, watch, Promise.all([producer.connect(), existing]), () => producer.disconnect())
    partitions = await existing
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
          messages: records.map((record) => ({
            key: record.key,
            value: record.value,
            headers: record.headers,
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
