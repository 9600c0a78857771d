/**
 * kafkajs 2.2.4 and the internals the log reader drives, typed, from the one bundled copy of
 * kafkajs es loads (dist/vendor/kafkajs.cjs, src/bundled-modules.ts), on first use: `es --version`
 * must not pay for it, and a command pays for one file instead of ~85.
 *
 * kafkajs has no group-less consumer, so the reader builds kafkajs's `Cluster` itself (metadata,
 * leaders, ListOffsets, connections with TLS/SASL; src/kafka/cluster.ts) and sends Fetch requests
 * encoded by kafkajs on the leader broker's connection pool, with its own response decoder
 * (src/kafka/fetch-response.ts). The producer runs kafkajs's own producer on such a cluster.
 * These are private modules: package.json pins kafkajs at exactly 2.2.4 and `loadKafkajsInternals`
 * refuses any other version rather than misbehave.
 */
import type { ICustomPartitioner, KafkaConfig, Producer } from 'kafkajs'
import { loadBundled } from '../bundled-modules.js'
import { InternalError } from '../errors.js'
import { type KafkajsCodecLookup, type KafkajsEncoder, producerHooks } from './produce-encoding.js'

/** What scripts/bundle.mjs puts in dist/vendor/kafkajs.cjs (the public module loads when first asked for). */
interface KafkajsBundle {
  version: string
  readonly kafkajs: typeof import('kafkajs')
  Cluster: unknown
  createProducer: unknown
  loggers: unknown
  socketFactory: unknown
  protocolErrors: unknown
  requests: unknown
  Encoder: KafkajsEncoder
  compression: { lookupCodec: KafkajsCodecLookup }
  /** Called by the bundle's Produce request and grouping modules (src/kafka/produce-encoding.ts). */
  producerHooks: Partial<ReturnType<typeof producerHooks>>
}

type Loggers = { createLogger(options: { level: number; logCreator: unknown }): unknown }
type Requests = {
  requests: {
    Fetch: {
      versions: string[]
      protocol(options: { version: number }): (request: Record<string, unknown>) => {
        request: unknown
        requestTimeout: number
      }
    }
  }
}
type ProtocolErrors = { createErrorFromCode(code: number): Error & { type: string; retriable: boolean } }

export const KAFKAJS_VERSION = '2.2.4'

export interface KafkajsPartitionMetadata {
  partitionId: number
  leader: number
  partitionErrorCode: number
}

export interface KafkajsTopicMetadata {
  topic: string
  isInternal?: boolean
  partitionMetadata: KafkajsPartitionMetadata[]
}

export interface KafkajsApiVersions {
  [apiKey: number]: { minVersion: number; maxVersion: number }
}

/** A protocol request as kafkajs's connection sends it: encoder, decoder and timeout. */
export interface KafkajsProtocolRequest {
  request: unknown
  response: { decode(payload: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<unknown> }
  requestTimeout?: number
}

export interface KafkajsBroker {
  nodeId: number | null
  versions: KafkajsApiVersions | null
  connectionPool: { send(request: KafkajsProtocolRequest): Promise<unknown> }
  disconnect(): Promise<void>
}

export interface KafkajsTopicOffsetsRequest {
  topic: string
  partitions: Array<{ partition: number }>
  fromBeginning?: boolean
  fromTimestamp?: number
}

export interface KafkajsCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  refreshMetadata(): Promise<void>
  addMultipleTargetTopics(topics: string[]): Promise<void>
  metadata(options?: { topics?: string[] }): Promise<{ topicMetadata: KafkajsTopicMetadata[] }>
  findTopicPartitionMetadata(topic: string): KafkajsPartitionMetadata[]
  findBroker(options: { nodeId: number | string }): Promise<KafkajsBroker>
  fetchTopicsOffset(
    topics: KafkajsTopicOffsetsRequest[],
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>
}

export interface KafkajsInternals {
  createCluster(options: Record<string, unknown>): KafkajsCluster
  /** kafkajs's producer on a cluster es opened (src/kafka/cluster.ts), as `Kafka.producer` makes it. */
  createProducer(options: {
    cluster: KafkajsCluster
    logger: unknown
    retry: KafkaConfig['retry']
    idempotent: boolean
    createPartitioner?: ICustomPartitioner
  }): Producer
  /** A kafkajs root logger that forwards to the given log creator. */
  createLogger(level: number, logCreator: unknown): unknown
  socketFactory(): unknown
  /** kafkajs's Fetch request for `version` (encoder; es replaces the response decoder). */
  fetchRequest(version: number, request: Record<string, unknown>): { request: unknown; requestTimeout: number }
  /** The highest Fetch version kafkajs can encode. */
  fetchMaxVersion: number
  /** kafkajs's error for a protocol error code (`type` e.g. NOT_LEADER_OR_FOLLOWER, `retriable`). */
  protocolError(code: number): Error & { type: string; retriable: boolean }
}

let loaded: KafkajsInternals | undefined
let bundle: KafkajsBundle | undefined

/** The bundled kafkajs, checked and with es's producer encoding installed (produce-encoding.ts). */
function kafkajsBundle(): KafkajsBundle {
  if (bundle) return bundle
  const found = loadBundled<KafkajsBundle>('kafkajs')
  if (found.version !== KAFKAJS_VERSION) {
    throw new InternalError(`es needs kafkajs ${KAFKAJS_VERSION} exactly, found ${found.version}`, {
      code: 'KAFKAJS_VERSION',
      suggestion: `reinstall: npm install kafkajs@${KAFKAJS_VERSION}, then npm run build`,
    })
  }
  Object.assign(found.producerHooks, producerHooks(found.Encoder, found.compression.lookupCodec))
  bundle = found
  return found
}

/** kafkajs's public module (every command imports kafkajs through here). */
export async function importKafkajs(): Promise<typeof import('kafkajs')> {
  return kafkajsBundle().kafkajs
}

export function loadKafkajsInternals(): KafkajsInternals {
  if (loaded) return loaded
  const { Cluster, createProducer, loggers, socketFactory, requests, protocolErrors } = kafkajsBundle()
  loaded = {
    createCluster: (options) => new (Cluster as new (options: Record<string, unknown>) => KafkajsCluster)(options),
    createProducer: createProducer as KafkajsInternals['createProducer'],
    createLogger: (level, logCreator) => (loggers as Loggers).createLogger({ level, logCreator }),
    socketFactory: socketFactory as () => unknown,
    fetchRequest: (version, request) => (requests as Requests).requests.Fetch.protocol({ version })(request),
    fetchMaxVersion: Math.max(...(requests as Requests).requests.Fetch.versions.map(Number)),
    protocolError: (code) => (protocolErrors as ProtocolErrors).createErrorFromCode(code),
  }
  return loaded
}
