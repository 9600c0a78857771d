/**
 * `es send-command`: validate a command against its JSON Schema, encode it exactly as the service
 * expects (envelope + codecs), produce it with an idempotent producer, and optionally wait for the
 * events it caused (matched by causation or correlation id) and judge the outcome.
 *
 * Invariants: nothing is produced unless the command is valid and encodes; with --wait, the events
 * stream's end offsets are fixed before producing, so no event caused by the command can be missed.
 */
import type { ResolvedConfig } from '../config/types.js'
import type { DecodedEvent } from '../envelope/index.js'
import { ConfigError, UnreachableError, UsageError } from '../errors.js'
import type { PartitionRange } from '../kafka/log-reader.js'
import type { PartitionerName } from '../kafka/partitioner.js'
import { produceRecord } from '../kafka/producer.js'
import { rawText, toJsonSafe } from '../render/records.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import { commandPreparer } from './prepare.js'

export interface SendRequest {
  config: ResolvedConfig
  service?: string
  type: string
  /** The payload, or a function asking for it (interactive prompts, given the command's schema). */
  payload: unknown | ((schema: object | undefined) => Promise<unknown>)
  id?: string
  key?: string
  headers?: Record<string, string>
  expectedVersion?: number
  /** Zero-config: the topic to send to. */
  topic?: string
  /** How keys map to partitions (default: the service's; none: as kafkajs, murmur2). */
  partitioner?: PartitionerName
  dryRun?: boolean
  /** Shown the encoded record; false cancels (interactive confirmation). */
  confirm?: (record: SentRecord) => Promise<boolean>
  wait?: { timeoutMs: number; onEvent?: (event: DecodedEvent) => void }
  runtime?: RuntimeOptions
}

/** The record as produced (or as it would be, with --dry-run). */
export interface SentRecord {
  topic: string
  key: string | null
  headers: Record<string, string>
  /** The value as text (JSON text for JSON codecs), or `base64:…` for binary encodings. */
  value: string | null
}

export interface SendResult {
  commandId: string
  type: string
  service: string
  record: SentRecord
  dryRun: boolean
  cancelled?: boolean
  partition?: number
  offset?: number
  /** With --wait: the events caused by the command and what they mean. */
  outcome?: 'accepted' | 'rejected'
  events?: Array<Record<string, unknown>>
}

/** After the first caused event, how long to keep collecting further events of the same command. */
const SETTLE_MS = 300

export async function sendCommand(request: SendRequest): Promise<SendResult> {
  const runtime = openRuntime(request.config, request.service, request.runtime)
  const { service } = runtime
  try {
    const preparer = commandPreparer(runtime, request.topic)
    const { topic } = preparer
    const spec = preparer.spec(request.type)
    const payload = typeof request.payload === 'function' ? await request.payload(spec?.schema) : request.payload
    if (payload === undefined) {
      throw new UsageError('no payload: give --data, --data-file <path|->, or --interactive', { code: 'NO_PAYLOAD' })
    }
    const encoded = await preparer.prepare({
      type: request.type,
      payload,
      id: request.id,
      key: request.key,
      headers: request.headers,
      expectedVersion: request.expectedVersion,
    })
    const { commandId } = encoded
    const record: SentRecord = {
      topic,
      key: encoded.key === null ? null : rawText(encoded.key),
      headers: encoded.headers,
      value: rawText(encoded.value),
    }
    const result: SendResult = {
      commandId,
      type: request.type,
      service: service.name,
      record,
      dryRun: Boolean(request.dryRun),
    }
    if (request.dryRun) return result
    if (request.confirm && !(await request.confirm(record))) return { ...result, cancelled: true }

    // Fix where the events stream ends *before* producing: every caused event lies beyond.
    let eventRanges: PartitionRange[] | undefined
    if (request.wait) {
      if (service.streams.events.length === 0) {
        throw new ConfigError('--wait needs the service events stream in the config', { code: 'NO_STREAM' })
      }
      eventRanges = await runtime.reader.resolveRanges(service.streams.events, { from: { kind: 'end' } })
    }
    const produced = await produceRecord(
      request.config.kafka,
      { topic, key: encoded.key, value: encoded.value, headers: encoded.headers },
      { debug: request.runtime?.debug, partitioner: request.partitioner ?? service.partitioner },
    )
    result.partition = produced.partition
    result.offset = produced.offset
    if (!request.wait || !eventRanges) return result

    const decode = await runtime.decoder()
    // `waitFor: aggregate` (events carry no causation id): the first event of the command's
    // aggregate after the ends fixed before sending is its outcome — the command itself and other
    // commands of a shared topic are not events.
    const byAggregate = service.waitFor === 'aggregate'
    const aggregateId = byAggregate
      ? (
          await decode({
            topic,
            partition: produced.partition,
            offset: produced.offset,
            timestamp: 0,
            key: encoded.key,
            value: encoded.value,
            headers: encoded.headers,
          })
        ).aggregateId
      : undefined
    if (byAggregate && aggregateId === undefined) {
      throw new ConfigError(`--wait by aggregate: the command ${commandId} names no aggregate to wait for`, {
        code: 'NO_AGGREGATE_ID',
        where: { path: `services.${service.name}.envelope.aggregateId` },
      })
    }
    const matches = (event: DecodedEvent): boolean => {
      if (!byAggregate) return event.causationId === commandId || event.correlationId === commandId
      if (event.aggregateId !== aggregateId) return false
      if (event.topic === topic && event.partition === produced.partition && event.offset === produced.offset)
        return false
      return event.type === undefined || !Object.hasOwn(service.commands, event.type)
    }
    const events: DecodedEvent[] = []
    const stop = new AbortController()
    let timedOut = false
    const deadline = setTimeout(() => {
      timedOut = true
      stop.abort()
    }, request.wait.timeoutMs)
    let settle: NodeJS.Timeout | undefined
    try {
      for await (const batch of runtime.reader.read(eventRanges, { signal: stop.signal })) {
        for (const eventRecord of batch.records) {
          if (byAggregate && events.length > 0) break
          let event: DecodedEvent
          try {
            event = await decode(eventRecord)
          } catch {
            continue // an undecodable event cannot name our command
          }
          if (!matches(event)) continue
          events.push(event)
          request.wait.onEvent?.(event)
          clearTimeout(settle)
          // By aggregate, the first event is the outcome; by causation, more may follow.
          settle = setTimeout(() => stop.abort(), byAggregate ? 0 : SETTLE_MS)
        }
      }
    } finally {
      clearTimeout(deadline)
      clearTimeout(settle)
    }
    result.events = events.map(eventJson)
    if (events.length === 0 && timedOut) {
      throw new UnreachableError(
        `no event ${byAggregate ? `of aggregate ${aggregateId} after command` : 'caused by command'} ${commandId} arrived on ${service.streams.events.join(', ')} within ${request.wait.timeoutMs} ms (the command was produced to ${topic}/${produced.partition}@${produced.offset})`,
        {
          code: 'WAIT_TIMEOUT',
          suggestion: 'check that the service is running (es tail commands / es tail events), or raise --timeout',
          where: { topic, partition: produced.partition, offset: produced.offset, commandId },
        },
      )
    }
    const rejections = byAggregate ? [...service.rejections, 'ErrorEvent'] : service.rejections
    result.outcome = events.some((e) => e.type !== undefined && rejections.includes(e.type)) ? 'rejected' : 'accepted'
    return result
  } finally {
    await runtime.close()
  }
}

function eventJson(event: DecodedEvent): Record<string, unknown> {
  return {
    topic: event.topic,
    partition: event.partition,
    offset: event.offset,
    type: event.type,
    id: event.id,
    aggregateId: event.aggregateId,
    causationId: event.causationId,
    version: event.version,
    timestamp: new Date(event.timestamp).toISOString(),
    payload: toJsonSafe(event.payload),
  }
}
