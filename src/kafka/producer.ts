/**
 * Producing records for `es send-command`: an idempotent producer (acks from all in-sync
 * replicas, one request in flight), so that retries never reorder or duplicate. kafkajs is loaded
 * lazily; connecting fails within the connection timeout with UnreachableError (exit 4).
 */
import type { KafkaConnection } from '../config/types.js'
import { NotFoundError } from '../errors.js'
import { type ClientOptions, connectWithin, kafkaClientConfig, toEsError } from './connection.js'
import { ConnectionWatch } from './connection-watch.js'
import { topicNotFound } from './log-reader.js'

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

export async function produceRecord(
  connection: KafkaConnection,
  record: OutgoingRecord,
  options: ClientOptions = {},
): Promise<ProducedRecord> {
  const { Kafka } = (await import('kafkajs')).default
  const watch = new ConnectionWatch(connection)
  const kafka = new Kafka(kafkaClientConfig(connection, { ...options, watch }))
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
  // Whether the topic exists is asked in parallel with connecting the producer: kafkajs would
  // retry an unknown topic's metadata for ~10 s before giving up.
  const admin = kafka.admin()
  const existing = (async () => {
    await admin.connect()
    try {
      return await admin.listTopics()
    } finally {
      await admin.disconnect().catch(() => {})
    }
  })()
  existing.catch(() => {})
  try {
    await connectWithin(connection, watch, Promise.all([producer.connect(), existing]), () => producer.disconnect())
    const topics = await existing
    if (!topics.includes(record.topic)) throw topicNotFound(record.topic, topics)
    const [metadata] = await producer.send({
      topic: record.topic,
      acks: -1,
      messages: [
        {
          key: record.key,
          value: record.value,
          headers: record.headers,
          timestamp: record.timestamp === undefined ? undefined : String(record.timestamp),
        },
      ],
    })
    return {
      topic: metadata.topicName,
      partition: metadata.partition,
      offset: Number(metadata.baseOffset ?? metadata.offset),
    }
  } catch (error) {
    if (/does not host this topic-partition|UNKNOWN_TOPIC/i.test(String((error as Error).message))) {
      throw new NotFoundError(`topic "${record.topic}" does not exist`, {
        code: 'TOPIC_NOT_FOUND',
        where: { topic: record.topic },
        suggestion: 'check the service streams in the config, or create the topic',
      })
    }
    throw toEsError(error, connection, `producing to ${record.topic}`)
  } finally {
    await producer.disconnect().catch(() => {})
  }
}
