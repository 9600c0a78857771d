/**
 * kafkajs's `Cluster` as es opens it, for the log reader and the producer alike: es's client
 * config (brokers, TLS, SASL, timeouts, the connection watch's sockets), never creating a topic
 * (whatever the broker's auto.create.topics.enable says), and the metadata of the topics a command
 * names, asked for those topics only — a cluster of thousands of topics answers all of them in
 * megabytes, and kafkajs would retry an unknown topic for ~10 s where es says at once that it does
 * not exist.
 */
import type { KafkaConfig } from 'kafkajs'
import { type KafkajsCluster, loadKafkajsInternals } from './kafkajs-internals.js'
import { topicNotFound } from './log-reader.js'

export interface OpenedCluster {
  cluster: KafkajsCluster
  /** kafkajs's root logger for `config` (a producer on this cluster logs through it too). */
  logger: unknown
}

export function openCluster(
  config: KafkaConfig,
  options: { maxInFlightRequests: number | null; isolationLevel?: number },
): OpenedCluster {
  const kafkajs = loadKafkajsInternals()
  const logger = kafkajs.createLogger(config.logLevel as number, config.logCreator)
  const cluster = kafkajs.createCluster({
    logger,
    socketFactory: config.socketFactory,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl,
    clientId: config.clientId,
    connectionTimeout: config.connectionTimeout,
    authenticationTimeout: config.authenticationTimeout,
    requestTimeout: config.requestTimeout,
    enforceRequestTimeout: true,
    retry: config.retry,
    metadataMaxAge: 300_000,
    allowAutoTopicCreation: false,
    maxInFlightRequests: options.maxInFlightRequests,
    isolationLevel: options.isolationLevel,
  })
  return { cluster, logger }
}

/** The names of the cluster's topics, internal ones left out, sorted. */
export async function topicNames(cluster: KafkajsCluster): Promise<string[]> {
  const { topicMetadata } = await cluster.metadata()
  return topicMetadata
    .filter((t) => !t.isInternal && !t.topic.startsWith('__'))
    .map((t) => t.topic)
    .sort()
}

/** Loads the metadata of `topics` into the cluster (leaders, partitions), or NotFoundError naming the first missing. */
export async function loadTopics(cluster: KafkajsCluster, topics: string[]): Promise<void> {
  try {
    await cluster.addMultipleTargetTopics(topics)
  } catch (error) {
    const type = (error as { type?: string }).type
    if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'INVALID_TOPIC_EXCEPTION') throw error
    const existing = await topicNames(cluster)
    const missing = topics.find((t) => !existing.includes(t))
    // None missing: a topic loaded earlier is gone, and kafkajs refreshes all loaded topics at once.
    if (missing === undefined) throw error
    throw topicNotFound(missing, existing)
  }
}
