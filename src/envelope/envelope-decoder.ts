/**
 * Records → events: decodes key and value with the service's codecs, then reads each envelope
 * field through its locator. The result is the event SPEC gives reducers plus `value` (the whole
 * decoded value). Locators are compiled once, here; per record the work is the two decodes and
 * the field reads.
 */

import type { Codec } from '../codecs/codec.js'
import { DecodeError, MissingSchemaError } from '../codecs/codec-errors.js'
import type { EnvelopeSpec } from '../config/types.js'
import type { KafkaRecord } from '../kafka/record.js'
import {
  compileLocatorReader,
  type LocatorFrame,
  type LocatorReader,
  newJsonStageCache,
  parseLocator,
  toNumber,
  toText,
} from './locator.js'

export interface DecodedEvent {
  type?: string
  aggregateId?: string
  id?: string
  causationId?: string
  correlationId?: string
  version?: number
  /** Epoch ms: the envelope's timestamp (ISO text or epoch ms) if it has one, else the record's. */
  timestamp: number
  payload: unknown
  /** Record headers as UTF-8 text. */
  headers: Record<string, string>
  /** The decoded key. */
  key: unknown
  /** The whole decoded value. */
  value: unknown
  topic: string
  partition: number
  offset: number
}

export interface EnvelopeCodecs {
  key: Codec
  value: Codec
}

export type EnvelopeDecoder = (record: KafkaRecord) => DecodedEvent

/**
 * What was decoded of a record that failed: its key when the value or envelope failed, its value
 * (or why the value failed too) when the key failed.
 */
export type PartialDecode = { key: unknown } | { value: unknown } | { valueError: string }

/** Kept beside the error, not in it: an error's `where` is printed and sent between threads. */
const partials = new WeakMap<Error, PartialDecode>()

/** The part of the record that did decode, for a DecodeError thrown by an envelope decoder. */
export function partialDecode(error: unknown): PartialDecode | undefined {
  return error instanceof Error ? partials.get(error) : undefined
}

/** Where a field's config lives: `services.bank.envelope` (or `envelope` without a service name). */
export function envelopeConfigPath(service: { name?: string }): string {
  return service.name ? `services.${service.name}.envelope` : 'envelope'
}

const FIELDS = ['type', 'aggregateId', 'id', 'causationId', 'correlationId', 'version', 'timestamp', 'payload'] as const
type Field = (typeof FIELDS)[number]

/**
 * Compiles the envelope (ConfigError for a bad locator) into a record decoder. A record that
 * cannot be decoded throws a DecodeError placed at its topic/partition/offset, its `where.part`
 * naming what failed: `key`, `value` or `envelope`. The key and the value are decoded apart, and
 * what did decode is kept with the error (`partialDecode`). A MissingSchemaError keeps its `load()` so the caller can load the schema and retry.
 */
export function createEnvelopeDecoder(
  service: { name?: string; envelope: EnvelopeSpec },
  codecs: EnvelopeCodecs,
): EnvelopeDecoder {
  const base = envelopeConfigPath(service)
  const readers = {} as Record<Field, LocatorReader>
  for (const field of FIELDS) {
    // `field: ~` in YAML (null) means the same as `none`.
    const text = service.envelope[field] as string | null | undefined
    readers[field] =
      text === undefined || text === null
        ? () => undefined
        : compileLocatorReader(parseLocator(text, `${base}.${field}`), { ignoreCase: service.envelope.ignoreCase })
  }
  const { type, aggregateId, id, causationId, correlationId, version, timestamp, payload } = readers
  const keyCodec = codecs.key
  const valueCodec = codecs.value
  const frame: LocatorFrame = {
    record: undefined as unknown as KafkaRecord,
    key: undefined,
    value: undefined,
    generation: 0,
    jsonCache: newJsonStageCache(),
    valueSchemaName: () => {
      const bytes = frame.record.value
      return bytes === null ? undefined : valueCodec.schemaOf?.(bytes, frame.record)?.name
    },
  }

  return (record) => {
    let key: unknown
    try {
      key = keyCodec.decode(record.key, record)
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error
      const failure = error.atRecord(record, 'key', failureContext(record, 'key', undefined))
      // A missing schema is loaded and the whole record decoded again: nothing to keep yet.
      if (!(failure instanceof MissingSchemaError)) partials.set(failure, valueAlone(record))
      throw failure
    }
    let part = 'value'
    try {
      const value = valueCodec.decode(record.value, record)
      part = 'envelope'
      frame.record = record
      frame.key = key
      frame.value = value
      frame.generation++
      return {
        type: toText(type(frame)),
        aggregateId: toText(aggregateId(frame)),
        id: toText(id(frame)),
        causationId: toText(causationId(frame)),
        correlationId: toText(correlationId(frame)),
        version: toNumber(version(frame)),
        timestamp: toTimestamp(timestamp(frame), record.timestamp),
        payload: payload(frame),
        headers: headerText(record.headers),
        key,
        value,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      }
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error
      const failure = error.atRecord(record, part, failureContext(record, part, key))
      partials.set(failure, { key })
      throw failure
    }
  }

  /**
   * A key that cannot be decoded does not hide the value: it is decoded on its own. (The envelope
   * is not read: its fields may come from the key.)
   */
  function valueAlone(record: KafkaRecord): PartialDecode {
    try {
      return { value: valueCodec.decode(record.value, record) }
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error
      const failure = error.atRecord(record, 'value')
      if (failure instanceof MissingSchemaError) throw failure
      return { valueError: failure.message }
    }
  }

  /** What is known of an undecodable record without its value: the writer schema, a header type. */
  function failureContext(record: KafkaRecord, part: string, key: unknown): Record<string, unknown> {
    const context: Record<string, unknown> = {}
    const codec = part === 'key' ? keyCodec : valueCodec
    const bytes = part === 'key' ? record.key : record.value
    const schema = bytes === null ? undefined : codec.schemaOf?.(bytes, record)
    if (schema) context.schema = schema
    try {
      frame.record = record
      frame.key = key
      frame.value = undefined
      frame.generation++
      const known = toText(type(frame))
      if (known !== undefined) context.type = known
    } catch {
      // The type lives in the value: unknown.
    }
    return context
  }
}

/** Epoch ms from epoch ms (number or text) or ISO-8601 text; `fallback` when absent or unreadable. */
export function toTimestamp(value: unknown, fallback: number): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : fallback
  if (typeof value === 'string') {
    const fast = parseIsoUtc(value)
    if (fast !== undefined) return fast
    const trimmed = value.trim()
    if (trimmed === '') return fallback
    if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed)
    const parsed = Date.parse(trimmed)
    return Number.isNaN(parsed) ? fallback : parsed
  }
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'bigint') return Number(value)
  return fallback
}

const DIGIT_0 = 48

/**
 * The common case, `YYYY-MM-DDTHH:MM:SS[.fff]Z` (what `Date#toISOString` writes), read from its
 * character codes: several times faster than Date.parse, which matters once per event in replay.
 * Anything else returns undefined and goes through Date.parse.
 */
function parseIsoUtc(text: string): number | undefined {
  const length = text.length
  if (length < 20 || length > 24 || text.charCodeAt(length - 1) !== 90 /* Z */) return undefined
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return undefined
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined
  let millis = 0
  if (length > 20) {
    if (text.charCodeAt(19) !== 46 /* . */) return undefined
    const fractionDigits = length - 21
    millis = Math.floor(digitsAt(text, 20, fractionDigits) * 10 ** (3 - fractionDigits))
  }
  const year = digitsAt(text, 0, 4)
  const month = digitsAt(text, 5, 2)
  const day = digitsAt(text, 8, 2)
  const hour = digitsAt(text, 11, 2)
  const minute = digitsAt(text, 14, 2)
  const second = digitsAt(text, 17, 2)
  // Out-of-range fields (and NaN, which fails every comparison) are left to Date.parse.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) return undefined
  if (!(hour <= 23 && minute <= 59 && second <= 59 && millis >= 0)) return undefined
  return daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + millis
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`):
 * integer arithmetic only, the same result as `Date.UTC(year, month - 1, day) / 86400000`.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
}

/** The decimal number written by `count` digits at `from`; NaN if one is not a digit. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - DIGIT_0
    if (d < 0 || d > 9) return Number.NaN
    value = value * 10 + d
  }
  return value
}

/** Shared by every event without headers. */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

function headerText(headers: KafkaRecord['headers']): Record<string, string> {
  let out = NO_HEADERS
  for (const name in headers) {
    if (out === NO_HEADERS) out = {}
    const header = headers[name]
    if (header !== undefined) out[name] = typeof header === 'string' ? header : header.toString('utf8')
  }
  return out
}
