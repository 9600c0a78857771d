/**
 * The records `es produce` reads, all parsed and validated before any is produced:
 *   lines   as kcat -P: one value per line (bytes as they are), `-K <delimiter>` splits a key off
 *           at its first occurrence (a line without it has no key), `-H k=v` on every record;
 *   ndjson  exactly what `es tail -o ndjson` writes: key, headers (an object, or a list of
 *           [name, value] pairs keeping repeats and nulls), timestamp, partition and value,
 *           re-encoded with the service's codecs; a record tail could not decode (`error` + `raw`)
 *           carries its raw bytes.
 * A bad line is an InvalidDataError (exit 5) naming its line number.
 */
import type { Codec } from '../codecs/codec.js'
import { retryAfterLoadingSchemas } from '../codecs/codec-errors.js'
import { InvalidDataError } from '../errors.js'
import type { HeaderPair } from '../kafka/produce-request.js'

export interface DraftRecord {
  /** 1-based line of the input it came from. */
  line: number
  key: Buffer | null
  value: Buffer | null
  headers: HeaderPair[]
  partition?: number
  timestamp?: number
}

export interface LinesOptions {
  keyDelimiter?: string
  headers: HeaderPair[]
  partition?: number
}

const NEWLINE = 0x0a

/** kcat -P: one record per line; a last line without newline counts, the empty end after one does not. */
export function parseLines(input: Buffer, options: LinesOptions): DraftRecord[] {
  const records: DraftRecord[] = []
  const delimiter = options.keyDelimiter === undefined ? undefined : Buffer.from(options.keyDelimiter, 'utf8')
  let start = 0
  for (let line = 1; start < input.length; line++) {
    let end = input.indexOf(NEWLINE, start)
    if (end < 0) end = input.length
    const bytes = input.subarray(start, end)
    start = end + 1
    let key: Buffer | null = null
    let value: Buffer = bytes
    if (delimiter) {
      const at = bytes.indexOf(delimiter)
      if (at >= 0) {
        key = bytes.subarray(0, at)
        value = bytes.subarray(at + delimiter.length)
      }
    }
    records.push({ line, key, value, headers: options.headers, partition: options.partition })
  }
  return records
}

export interface NdjsonOptions {
  topic: string
  keyCodec: Codec
  valueCodec: Codec
  /** `-p`: every record to this partition instead of the line's. */
  partition?: number
  /** `-H`: headers added to every record, after the line's. */
  headers: HeaderPair[]
}

export async function parseNdjson(input: Buffer, options: NdjsonOptions): Promise<DraftRecord[]> {
  const records: DraftRecord[] = []
  const lines = input.toString('utf8').split('\n')
  for (const [index, text] of lines.entries()) {
    if (text.trim() === '') continue
    const line = index + 1
    const bad = (why: string) =>
      new InvalidDataError(`line ${line}: ${why}; nothing was produced`, {
        code: 'INVALID_RECORD',
        where: { line },
        suggestion: 'each line is one JSON object as es tail -o ndjson writes it',
      })
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (error) {
      throw bad(`not JSON (${(error as Error).message})`)
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('not a JSON object')
    const record = doc as Record<string, unknown>
    const headers = [...parseHeaders(record.headers, bad), ...options.headers]
    const headerObject = Object.fromEntries(headers.map((h) => [h.key, h.value?.toString('utf8') ?? '']))
    let partition = options.partition
    if (partition === undefined && record.partition !== undefined && record.partition !== null) {
      if (!Number.isInteger(record.partition) || (record.partition as number) < 0) {
        throw bad(`partition ${JSON.stringify(record.partition)} is not a partition number`)
      }
      partition = record.partition as number
    }
    let timestamp: number | undefined
    if (record.timestamp !== undefined && record.timestamp !== null) {
      timestamp = typeof record.timestamp === 'number' ? record.timestamp : Date.parse(String(record.timestamp))
      if (!Number.isFinite(timestamp) || timestamp < 0) {
        throw bad(`timestamp ${JSON.stringify(record.timestamp)} is not an ISO time or epoch milliseconds`)
      }
    }
    const encode = async (codec: Codec, value: unknown, part: 'key' | 'value') => {
      try {
        const bytes = asBytes(codec, value)
        // A registry codec may need its schema id looked up first (once per schema).
        return await retryAfterLoadingSchemas(() =>
          codec.encode(bytes, { topic: options.topic, part, headers: headerObject }),
        )
      } catch (error) {
        throw bad(`the ${part} cannot be encoded as ${codec.name}: ${(error as Error).message}`)
      }
    }
    const key =
      record.key === undefined || record.key === null ? null : await encode(options.keyCodec, record.key, 'key')
    let value: Buffer | null
    if ('raw' in record && record.error !== undefined) {
      // An undecodable record: its bytes as tail showed them (UTF-8 text, or base64:…).
      if (record.raw !== null && typeof record.raw !== 'string') throw bad('raw is neither text nor null')
      value = record.raw === null ? null : rawBytes(record.raw as string)
    } else if ('value' in record) {
      value = await encode(options.valueCodec, record.value, 'value')
    } else {
      throw bad('no value (nor raw bytes of an undecodable record)')
    }
    records.push({ line, key, value, headers, partition, timestamp })
  }
  return records
}

type Bad = (why: string) => InvalidDataError

/** `{name: value}` or `[[name, value|null], …]` (the form that keeps repeats and nulls). */
function parseHeaders(headers: unknown, bad: Bad): HeaderPair[] {
  if (headers === undefined || headers === null) return []
  // As es tail writes them: text, `base64:…` for bytes that are not UTF-8, or null.
  const value = (name: string, v: unknown): Buffer | null => {
    if (v === null) return null
    if (typeof v !== 'string') throw bad(`header ${name} is not text or null`)
    return rawBytes(v)
  }
  if (Array.isArray(headers)) {
    return headers.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
        throw bad('headers as a list must be [name, value] pairs')
      }
      return { key: pair[0], value: value(pair[0], pair[1]) }
    })
  }
  if (typeof headers !== 'object') throw bad('headers is neither an object nor a list of pairs')
  // A repeated name holds the array of its values, in order (es tail's shape).
  return Object.entries(headers as Record<string, unknown>).flatMap(([k, v]) =>
    Array.isArray(v) ? v.map((item) => ({ key: k, value: value(k, item) })) : [{ key: k, value: value(k, v) }],
  )
}

/**
 * What tail rendered as bytes becomes bytes again: `base64:…` text of the auto codec (binary
 * values), and a Buffer serialised by JSON.stringify (`{"type":"Buffer","data":[…]}`).
 */
function asBytes(codec: Codec, value: unknown): unknown {
  if (codec.name === 'auto' && typeof value === 'string' && value.startsWith('base64:')) {
    return Buffer.from(value.slice('base64:'.length), 'base64')
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return Buffer.from((value as { data: number[] }).data)
  }
  return value
}

function rawBytes(raw: string): Buffer {
  return raw.startsWith('base64:') ? Buffer.from(raw.slice('base64:'.length), 'base64') : Buffer.from(raw, 'utf8')
}

/** `-H k=v` flags as header pairs (a usage error when one is not k=v). */
export function headerFlags(pairs: string[], invalid: (pair: string) => Error): HeaderPair[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw invalid(pair)
    return { key: pair.slice(0, eq), value: Buffer.from(pair.slice(eq + 1), 'utf8') }
  })
}
