/**
 * `es produce <topic>`: reads every record (stdin or a file), validates them all, then produces
 * them in order with the idempotent producer. Nothing is produced when one line is bad (exit 5
 * naming it) or names a partition the topic does not have.
 */
import { readFile } from 'node:fs/promises'
import type { ResolvedConfig } from '../config/types.js'
import { ConfigError, InvalidDataError } from '../errors.js'
import type { HeaderPair } from '../kafka/produce-request.js'
import { type ProducedPartition, produceRecords } from '../kafka/producer.js'
import { kafkajsCompression, type ProduceCompression } from '../kafka/producer-compression.js'
import { openRuntime } from '../service/runtime.js'
import { type DraftRecord, parseLines, parseNdjson } from './input.js'

export type ProduceFormat = 'lines' | 'ndjson'

export interface ProduceRequest {
  config: ResolvedConfig
  service?: string
  topic: string
  /** A file, or undefined / `-` for stdin. */
  file?: string
  format: ProduceFormat
  keyDelimiter?: string
  headers: HeaderPair[]
  partition?: number
  compression: ProduceCompression
  readStdin: () => Promise<Buffer>
  debug?: (line: string) => void
}

export interface ProduceResult {
  topic: string
  records: number
  compression: ProduceCompression
  partitions: ProducedPartition[]
}

export async function produce(request: ProduceRequest): Promise<ProduceResult> {
  const input = await readInput(request)
  const compression = await kafkajsCompression(request.compression)
  const records = await parseInput(request, input)
  const partitions =
    records.length === 0
      ? []
      : await produceRecords(request.config.kafka, request.topic, records, {
          compression,
          debug: request.debug,
          check: (count) => {
            const outside = records.find((r) => r.partition !== undefined && r.partition >= count)
            if (outside) {
              throw new InvalidDataError(
                `line ${outside.line}: partition ${outside.partition} does not exist (${request.topic} has ${count}); nothing was produced`,
                {
                  code: 'NO_SUCH_PARTITION',
                  where: { line: outside.line, topic: request.topic, partition: outside.partition! },
                  suggestion: `-p <n> sends every record to one partition; or give ${request.topic} more partitions`,
                },
              )
            }
          },
        })
  return { topic: request.topic, records: records.length, compression: request.compression, partitions }
}

async function readInput(request: ProduceRequest): Promise<Buffer> {
  if (request.file === undefined || request.file === '-') return request.readStdin()
  try {
    return await readFile(request.file)
  } catch (error) {
    throw new ConfigError(`cannot read ${request.file}: ${(error as Error).message}`, {
      code: 'INPUT_UNREADABLE',
      where: { file: request.file },
    })
  }
}

async function parseInput(request: ProduceRequest, input: Buffer): Promise<DraftRecord[]> {
  if (request.format === 'lines') {
    return parseLines(input, {
      keyDelimiter: request.keyDelimiter,
      headers: request.headers,
      partition: request.partition,
    })
  }
  const runtime = openRuntime(request.config, request.service, { debug: request.debug })
  try {
    const codecs = await runtime.codecs()
    return await parseNdjson(input, {
      topic: request.topic,
      keyCodec: codecs.key,
      valueCodec: codecs.value,
      partition: request.partition,
      headers: request.headers,
    })
  } finally {
    await runtime.close()
  }
}
