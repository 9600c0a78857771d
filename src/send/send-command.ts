/**
 * `es send-command`: validate a command against its JSON Schema, encode it exactly as the service
 * expects (envelope + codecs), produce it with an idempotent producer, and optionally wait for the
 * events it caused (matched by causation or correlation id) and judge the outcome.
 *
 * Invariants: nothing is produced unless the command is valid and encodes; with --wait, the events
 * stream's end offsets are fixed before producing, so no event caused by the command can be missed.
 */
import { randomUUID } from 'node:crypto'
import { retryAfterLoadingSchemas } from '../codecs/codec-errors.js'
import type { CommandSpec, ResolvedConfig, ServiceConfig } from '../config/types.js'
import {
  compileLocatorReader,
  createCommandEncoder,
  type DecodedEvent,
  defaultCommandEnvelope,
  parseLocator,
} from '../envelope/index.js'
import { ConfigError, InvalidDataError, UnreachableError, UsageError } from '../errors.js'
import type { PartitionRange } from '../kafka/log-reader.js'
import { produceRecord } from '../kafka/producer.js'
import { rawText, toJsonSafe } from '../render/records.js'
import { isZeroConfig } from '../service/resolve.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import { requireCommandType, validatePayload } from './payload.js'

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
    const zero = isZeroConfig(service)
    const declared = Object.keys(service.commands).length > 0
    const spec = declared ? requireCommandType(service.commands, request.type, service.name) : undefined
    const topic = request.topic ?? service.streams.commands[0]
    if (!topic) {
      throw new ConfigError(
        `no commands stream is configured${zero ? ' (no config file found)' : ` for service ${service.name}`}`,
        {
          code: 'NO_STREAM',
          suggestion: 'give --topic (and --brokers), or set the service streams.commands in the config',
        },
      )
    }
    const payload = typeof request.payload === 'function' ? await request.payload(spec?.schema) : request.payload
    if (payload === undefined) {
      throw new UsageError('no payload: give --data, --data-file <path|->, or --interactive', { code: 'NO_PAYLOAD' })
    }
    validatePayload(request.type, spec?.schema, payload)

    const envelopeService: Pick<ServiceConfig, 'name' | 'envelope'> = zero
      ? { name: service.name, envelope: defaultCommandEnvelope }
      : service
    const codecs = await runtime.codecs()
    const encode = createCommandEncoder(
      envelopeService,
      zero ? { key: codecs.key, value: jsonCodec(codecs.value) } : codecs,
    )
    const commandId = request.id ?? randomUUID()
    const expectedVersion = request.expectedVersion ?? defaultExpectedVersion(spec, request.type, service.name)
    // Encoding may need a schema or a registry id first (Confluent codecs): loaded, then retried.
    const encoded = await retryAfterLoadingSchemas(() =>
      encode({
        topic,
        type: request.type,
        payload,
        id: commandId,
        key: request.key ?? keyFromPayload(spec, payload, `services.${service.name}.commands.${request.type}.key`),
        expectedVersion,
        headers: request.headers,
        timestamp: Date.now(),
      }),
    )
    // A command of a service keyed by aggregate that would go out without a key is lost to it
    // (seed 003 folds by key): refused, nothing produced.
    const keyed = spec?.key !== undefined || isKeyLocator(envelopeService.envelope.aggregateId)
    if (keyed && (encoded.key === null || encoded.key.length === 0)) {
      throw new InvalidDataError(
        `${request.type} has no key: ${spec?.key ? `${spec.key} is not in the payload and no --key was given` : 'the aggregate id is the record key and no --key was given'}; nothing was produced`,
        {
          code: 'NO_KEY',
          where: spec?.key ? { path: spec.key } : undefined,
          suggestion: spec?.key
            ? `give --key <id>, or ${spec.key} in the payload`
            : `give --key <id> (or set services.${service.name}.commands.${request.type}.key to a payload field)`,
        },
      )
    }
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
      { debug: request.runtime?.debug },
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

/** Whether the locator reads the record key (`key`, `key | lower`, …). */
function isKeyLocator(text: string | undefined): boolean {
  return typeof text === 'string' && /^\s*key\s*(\||$)/.test(text)
}

/**
 * The expected version without `--expected-version`: the command type's default (0 for a command
 * that creates its aggregate), undefined, or refused where the service checks it (`required`).
 */
function defaultExpectedVersion(spec: CommandSpec | undefined, type: string, service: string): number | undefined {
  if (spec?.expectedVersion === undefined || typeof spec.expectedVersion === 'number') return spec?.expectedVersion
  throw new InvalidDataError(`${type} needs --expected-version: ${service} checks the version it expects`, {
    code: 'NO_EXPECTED_VERSION',
    where: { path: `services.${service}.commands.${type}.expectedVersion` },
    suggestion: `give --expected-version <n> (the aggregate's current version: es replay --aggregate <id>)`,
  })
}

/**
 * The record key when `--key` is absent: read from the payload where the command type's config
 * says (`key: $.accountId`). Undefined when not configured or absent from the payload.
 */
function keyFromPayload(spec: CommandSpec | undefined, payload: unknown, field: string): unknown {
  if (!spec?.key) return undefined
  const read = compileLocatorReader(parseLocator(spec.key, field))
  const key = read({
    record: { topic: '', partition: -1, offset: -1, timestamp: 0, key: null, value: null, headers: {} },
    key: undefined,
    value: payload,
    generation: 0,
    jsonCache: { generation: -1, inputs: [], outputs: [] },
    valueSchemaName: () => undefined,
  })
  return key === null ? undefined : key
}

/** Zero-config commands are JSON whatever the value codec guesses on reads. */
function jsonCodec(codec: {
  encode(value: unknown): Buffer | null
  decode(bytes: Buffer | null): unknown
  name: string
}) {
  return {
    ...codec,
    name: 'json',
    encode: (value: unknown) => (value === undefined || value === null ? null : Buffer.from(JSON.stringify(value))),
    decode: (bytes: Buffer | null) => codec.decode(bytes),
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
