/**
 * `es tail` over a service: its runtime (reader, codecs, envelope), the topics of a stream name, a
 * literal topic or --topic, the service's partitioner unless one is given, then `runTail`.
 */
import type { ResolvedConfig } from '../config/types.js'
import type { PartitionerName } from '../kafka/partitioner.js'
import { resolveTopics } from '../service/resolve.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import { runTail, type TailRequest, type TailSummary } from './run.js'

export interface TailServiceRequest
  extends Omit<TailRequest, 'reader' | 'topics' | 'partitioner' | 'decode' | 'schemaOf' | 'valuesAreJsonText'> {
  config: ResolvedConfig
  service?: string
  /** commands, events, snapshots, or a topic name (default: events). */
  stream?: string
  /** --topic: topics instead of the stream. */
  topics?: string[]
  /** Overrides the service's partitioner. */
  partitioner?: PartitionerName
  runtime?: RuntimeOptions
}

export async function tailService(request: TailServiceRequest): Promise<TailSummary> {
  const { config, service, stream, topics, partitioner, runtime: options, ...rest } = request
  const runtime = openRuntime(config, service, options)
  try {
    const read = resolveTopics(runtime.service, stream, topics, 'events')
    return await runTail({
      ...rest,
      reader: runtime.reader,
      topics: read,
      partitioner: partitioner ?? runtime.service.partitioner,
      decode: await runtime.decoder(),
      schemaOf: await runtime.schemaOf(),
      valuesAreJsonText: (await runtime.codecs()).value.jsonText,
    })
  } finally {
    await runtime.close()
  }
}
