/**
 * One record → one line of output, in the formats of streaming commands:
 *   pretty  time, topic/partition@offset, key, coloured type, version, [headers], value (for
 *           people; control characters escaped, so one record is one line)
 *   ndjson  one compact JSON object per line (for jq and scripts)
 *   json    the same object, indented (for reading JSON by eye)
 *   raw     the value bytes as they are, one record per line (like kcat's default)
 * A record that could not be decoded is never dropped: it is shown raw, with the decode error.
 */
import type { ChalkInstance } from 'chalk'
import { escapeControl } from './escape.js'

export type RecordFormat = 'pretty' | 'json' | 'ndjson' | 'raw'
export const RECORD_FORMATS: RecordFormat[] = ['pretty', 'json', 'ndjson', 'raw']

export interface ShownRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  /** The decoded key; null when the key is null or could not be decoded (then `keyError` says why). */
  key: unknown
  /** Why the key could not be decoded; then `rawKey` holds its bytes. The value is decoded apart. */
  keyError?: string
  rawKey?: Buffer | null
  /** Every header in stored order, repeated names and null values included. */
  headers: ReadonlyArray<readonly [string, Buffer | string | null]>
  type?: string
  id?: string
  aggregateId?: string
  causationId?: string
  version?: number
  /** The writer schema the value names (Avro, Protobuf, Confluent framing): name, id or fingerprint. */
  schema?: { name?: string; id?: number; fingerprint?: string }
  /** The decoded value (absent when decoding failed). */
  value?: unknown
  /**
   * The envelope's decoded payload (`payload:` locator, e.g. `$.data`, `$.json_data | json`);
   * absent when it is the whole value (`payload: $`, the default), which `value` already is.
   */
  payload?: unknown
  /** `value` is an object or array whose JSON text is `rawValue` (json, auto codecs): ndjson carries it as stored. */
  valueIsStoredJson?: boolean
  /** Why the value could not be decoded. */
  error?: string
  /** The value's bytes as stored (what `raw` writes; shown beside `error`). */
  rawValue?: Buffer | null
}

/** The JSON object of ndjson/json output: a stable, documented shape. */
export function recordJson(record: ShownRecord): Record<string, unknown> {
  const out = recordJsonHead(record)
  if (record.error !== undefined) {
    out.error = record.error
    out.raw = rawText(record.rawValue)
  } else {
    out.value = toJsonSafe(record.value)
    if (record.payload !== undefined) out.payload = toJsonSafe(record.payload)
  }
  return out
}

/**
 * One ndjson line. A JSON value goes out as the text stored in the record (kcat's bytes: a 20-digit
 * integer keeps its digits, and nothing is parsed into objects only to be written again), unless
 * that text spans lines; everything else is `recordJson` serialised.
 */
function ndjsonLine(record: ShownRecord): string {
  const bytes = record.rawValue
  if (
    record.valueIsStoredJson !== true ||
    record.error !== undefined ||
    !bytes ||
    bytes.indexOf(0x0a) !== -1 ||
    bytes.indexOf(0x0d) !== -1
  ) {
    return JSON.stringify(recordJson(record))
  }
  const head = JSON.stringify(recordJsonHead(record))
  const payload = record.payload === undefined ? '' : `,"payload":${JSON.stringify(toJsonSafe(record.payload))}`
  return `${head.slice(0, -1)},"value":${bytes.toString()}${payload}}`
}

/** Everything of the JSON object before the value (or error) and payload. */
function recordJsonHead(record: ShownRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: isoTimestamp(record.timestamp),
    key: record.key ?? null,
  }
  if (record.keyError !== undefined) {
    out.keyError = record.keyError
    out.keyRaw = rawText(record.rawKey)
  }
  if (record.type !== undefined) out.type = record.type
  if (record.id !== undefined) out.id = record.id
  if (record.aggregateId !== undefined) out.aggregateId = record.aggregateId
  if (record.causationId !== undefined) out.causationId = record.causationId
  if (record.version !== undefined) out.version = record.version
  if (record.schema !== undefined) out.schema = record.schema
  if (record.headers.length > 0) out.headers = headersJson(record.headers)
  return out
}

// Records of one batch mostly share their millisecond: its ISO text is made once.
let lastMillis = Number.NaN
let lastIso = ''
function isoTimestamp(millis: number): string {
  if (millis !== lastMillis) {
    lastIso = new Date(millis).toISOString()
    lastMillis = millis
  }
  return lastIso
}

/**
 * Headers as JSON: name → value, in the order names first appear; a name repeated in the record →
 * the array of its values in order; a null value → null. A value is its UTF-8 text, or
 * `base64:…` when it is not valid UTF-8.
 */
export function headersJson(headers: ShownRecord['headers']): Record<string, string | null | Array<string | null>> {
  const out: Record<string, string | null | Array<string | null>> = {}
  const repeated = new Set<string>()
  for (const [name, value] of headers) {
    const text = headerValueText(value)
    if (!Object.hasOwn(out, name)) out[name] = text
    else if (repeated.has(name)) (out[name] as Array<string | null>).push(text)
    else {
      out[name] = [out[name] as string | null, text]
      repeated.add(name)
    }
  }
  return out
}

function headerValueText(value: Buffer | string | null): string | null {
  if (value === null || typeof value === 'string') return value
  const text = value.toString('utf8')
  return Buffer.from(text, 'utf8').equals(value) ? text : `base64:${value.toString('base64')}`
}

const EMPTY = Buffer.alloc(0)

/** A line of text, or for `raw` the value's bytes (binary included, never re-serialised). */
export function formatRecord(record: ShownRecord, format: RecordFormat, paint: ChalkInstance): string | Buffer {
  switch (format) {
    case 'ndjson':
      return ndjsonLine(record)
    case 'json':
      return JSON.stringify(recordJson(record), null, 2)
    case 'raw':
      // The value's bytes exactly as stored (a null value: an empty line, as kcat prints it).
      return record.rawValue ?? EMPTY
    default:
      return prettyRecord(record, paint)
  }
}

/**
 * Every piece of record data (key, type, headers, value, raw bytes, errors, which may quote the
 * bytes) is escaped before it is painted: a record cannot reach the terminal as control codes.
 */
function prettyRecord(record: ShownRecord, paint: ChalkInstance): string {
  const time = new Date(record.timestamp).toISOString().replace('T', ' ').replace('Z', '')
  const where = paint.dim(`${record.topic}/${record.partition}@${record.offset}`)
  const key =
    record.keyError !== undefined
      ? `${paint.red(`key error: ${escapeControl(record.keyError)}`)}  key raw: ${peopleText(record.rawKey)}`
      : record.key === null || record.key === undefined
        ? paint.dim('(no key)')
        : paint.cyan(escapeControl(textOf(record.key)))
  const type = record.type ? paint.bold(paint.magenta(escapeControl(record.type))) : ''
  const version = record.version !== undefined ? paint.dim(`v${record.version}`) : ''
  const headers = record.headers.length > 0 ? paint.dim(`[${prettyHeaders(record.headers)}]`) : ''
  const value =
    record.error !== undefined
      ? `${paint.red(`decode error: ${escapeControl(record.error)}`)}  raw: ${peopleText(record.rawValue)}`
      : escapeControl(textOf(record.value))
  return [paint.dim(time), where, key, type, version, headers, value].filter((part) => part !== '').join('  ')
}

function prettyHeaders(headers: ShownRecord['headers']): string {
  return headers
    .map(([name, value]) => {
      const text = value === null ? '(null)' : typeof value === 'string' ? value : peopleText(value)
      return `${escapeControl(name)}=${escapeControl(text ?? '')}`
    })
    .join(', ')
}

/** Bytes for people: their UTF-8 text, escaped, when they are valid UTF-8, else `base64:…`. */
function peopleText(bytes: Buffer | null | undefined): string {
  if (bytes === null || bytes === undefined) return '(null)'
  const text = bytes.toString('utf8')
  return Buffer.from(text, 'utf8').equals(bytes) ? escapeControl(text) : `base64:${bytes.toString('base64')}`
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(toJsonSafe(value))
}

/** Bytes as UTF-8 text when they are valid UTF-8, else as `base64:…`. */
export function rawText(bytes: Buffer | null | undefined): string | null {
  if (bytes === null || bytes === undefined) return null
  const text = bytes.toString('utf8')
  if (Buffer.from(text, 'utf8').equals(bytes) && !/[\x00-\x08\x0e-\x1f]/.test(text)) return text
  return `base64:${bytes.toString('base64')}`
}

/** Buffers → base64 strings, bigints → numbers or strings, so any decoded value prints as JSON. */
export function toJsonSafe(value: unknown): unknown {
  // Most values (all of a JSON codec's) need nothing: checking costs less than copying them.
  return isJsonSafe(value) ? value : jsonSafeCopy(value)
}

/** True when JSON.stringify writes the value as toJsonSafe would: plain data only. */
function isJsonSafe(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return true
    case 'object': {
      if (value === null) return true
      if (Array.isArray(value)) {
        for (const item of value) if (!isJsonSafe(item)) return false
        return true
      }
      const prototype = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) return false
      for (const key in value) if (!isJsonSafe((value as Record<string, unknown>)[key])) return false
      return true
    }
    default:
      return false
  }
}

function jsonSafeCopy(value: unknown): unknown {
  if (value === undefined) return null
  if (Buffer.isBuffer(value)) return `base64:${value.toString('base64')}`
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (Array.isArray(value)) return value.map(toJsonSafe)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = toJsonSafe(v)
    return out
  }
  return value
}
