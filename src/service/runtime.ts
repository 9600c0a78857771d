/**
 * What commands that read a service need, built once: the group-less log reader, the service's
 * codecs (Avro schema topics fed through the same reader) and its envelope decoder. Nothing here
 * connects until first used; `close` releases whatever was opened.
 */

import type { WriterSchema } from '../codecs/codec.js'
import { loadingSchemas } from '../codecs/codec-errors.js'
import { createServiceCodecs, type ServiceCodecs } from '../codecs/create-codec.js'
import { RegistryClient } from '../codecs/registry-client.js'
import { SchemaTopicSource } from '../codecs/schema-topic-source.js'
import type { ResolvedConfig, ServiceConfig } from '../config/types.js'
import { createEnvelopeDecoder, type DecodedEvent } from '../envelope/index.js'
import { KafkaLogReader } from '../kafka/kafka-log-reader.js'
import type { LogReader } from '../kafka/log-reader.js'
import type { KafkaRecord } from '../kafka/record.js'
import { codecSnapshotDecoder, type SnapshotDecoder } from '../snapshots/latest.js'
import { partitionKey } from '../stores/state-store.js'
import { resolveService } from './resolve.js'

export interface RuntimeOptions {
  /** Diagnostics (`--verbose`): kafkajs and es debug lines. */
  debug?: (line: string) => void
  /** A reader to use instead of connecting to Kafka (tests). */
  reader?: LogReader
}

export interface ServiceRuntime {
  readonly config: ResolvedConfig
  readonly service: ServiceConfig
  /** The service as asked for (`--service`), for worker threads that open their own runtime. */
  readonly serviceName: string | undefined
  /** Whether the reader was given (tests) rather than connected from the config. */
  readonly injectedReader: boolean
  readonly reader: LogReader
  codecs(): Promise<ServiceCodecs>
  /** A key's bytes as the service's key codec writes them; null when that codec cannot encode it. */
  keyBytes(key: string): Promise<Buffer | null>
  /**
   * The one record → event decode of every command that decodes: synchronous, except when a
   * schema must be loaded first (registry, schema topic), then a promise.
   */
  decoder(): Promise<RecordDecoder>
  /** The writer schema a record's value names, when the value codec has schemas. */
  schemaOf(): Promise<(record: KafkaRecord) => WriterSchema | undefined>
  /** Key and value without the envelope (snapshot topics), loading schemas the same way. */
  snapshotDecoder(): Promise<SnapshotDecoder>
  close(): Promise<void>
}

export function openRuntime(
  config: ResolvedConfig,
  serviceName: string | undefined,
  options: RuntimeOptions = {},
): ServiceRuntime {
  const service = resolveService(config, serviceName)
  let reader: LogReader | undefined = options.reader
  const getReader = () => {
    reader ??= new KafkaLogReader(config.kafka, { debug: options.debug })
    return reader
  }
  let codecs: Promise<ServiceCodecs> | undefined
  const schemaTopics = new Map<string, { source: SchemaTopicSource; positions: Map<string, number> }>()

  /** Reads a schema topic from where the last read stopped up to its current end. */
  const feedSchemaTopic = async (topic: string) => {
    const entry = schemaTopics.get(topic)!
    const ranges = (
      await getReader().resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
    ).map((range) => ({
      ...range,
      start: Math.max(range.start, entry.positions.get(partitionKey(topic, range.partition)) ?? 0),
    }))
    for await (const batch of getReader().read(ranges)) {
      for (const record of batch.records) {
        try {
          entry.source.addRecord(record.key, record.value)
        } catch (error) {
          options.debug?.(`skipping ${topic}/${record.partition}@${record.offset}: ${(error as Error).message}`)
        }
      }
      entry.positions.set(partitionKey(topic, batch.partition), batch.position)
    }
  }

  const getCodecs = () => {
    codecs ??= (async () => {
      const made = await createServiceCodecs(service, config, {
        schemaRegistry: config.schemaRegistry
          ? new RegistryClient({ ...config.schemaRegistry, debug: options.debug })
          : undefined,
        schemaTopicSource: (topic) => {
          let entry = schemaTopics.get(topic)
          if (!entry) {
            entry = {
              source: new SchemaTopicSource(topic, { refresh: () => feedSchemaTopic(topic) }),
              positions: new Map(),
            }
            schemaTopics.set(topic, entry)
          }
          return entry.source
        },
      })
      for (const topic of schemaTopics.keys()) await feedSchemaTopic(topic)
      return made
    })()
    return codecs
  }

  return {
    config,
    service,
    serviceName,
    injectedReader: options.reader !== undefined,
    get reader() {
      return getReader()
    },
    codecs: getCodecs,
    keyBytes: async (key) => {
      try {
        return (await getCodecs()).key.encode(key)
      } catch {
        return null
      }
    },
    decoder: async () => loadingSchemas(createEnvelopeDecoder(service, await getCodecs())),
    schemaOf: async () => {
      const { value } = await getCodecs()
      return (record) => (record.value === null ? undefined : value.schemaOf?.(record.value, record))
    },
    snapshotDecoder: async () => codecSnapshotDecoder(await getCodecs()),
    close: async () => {
      await reader?.close()
    },
  }
}

export type RecordDecoder = (record: KafkaRecord) => DecodedEvent | Promise<DecodedEvent>
