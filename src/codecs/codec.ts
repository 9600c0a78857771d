/**
 * The codec port: bytes of a record key or value ↔ a JSON-friendly value. Decoding is synchronous
 * because it sits in the hot loop of tail and replay (about a million records a second); anything
 * that needs I/O (fetching an Avro schema from a registry) happens outside it, through
 * `MissingSchemaError` and `loadSchema` (see codec-errors.ts).
 */

import type { KafkaRecord } from '../kafka/record.js'
import { EncodeError } from './codec-errors.js'

export interface Codec {
  /** The codec type as configured: `json`, `avro-single-object`, … */
  readonly name: string
  /**
   * True when a decoded plain object or array is always `JSON.parse` of the bytes' UTF-8 text
   * (json, auto): output may then carry the stored text as it is instead of serialising the value
   * again. (Other values — auto's Buffer for binary bytes, strings — are serialised as usual.)
   */
  readonly jsonText?: boolean
  /**
   * Bytes → value. `null` bytes (a tombstone) decode to `null`. Throws `DecodeError`. `record`:
   * the record the bytes belong to, for codecs that read a header (a Protobuf message type).
   */
  decode(bytes: Buffer | null, record?: KafkaRecord): unknown
  /**
   * Value → bytes. `null`/`undefined` encode to `null` (a tombstone). Throws `EncodeError`, or a
   * `MissingSchemaError` when a schema (or its registry id) must be fetched first: see
   * `retryAfterLoadingSchemas`. `context`: where the bytes go (registry subject names).
   */
  encode(value: unknown, context?: EncodeContext): Buffer | null
  /**
   * Avro codecs with external schemas: fetch the schema a `MissingSchemaError` named, so that a
   * retry of `decode`/`encode` finds it. Resolves also when the schema does not exist (the retry
   * then fails with a plain `DecodeError`); rejects when the source cannot be reached.
   */
  loadSchema?(ref: SchemaRef): Promise<void>
  /**
   * Codecs with writer schemas: the schema these bytes name (its registry id or fingerprint, read
   * from the framing even when the schema is not loaded) and its full name when known.
   */
  schemaOf?(bytes: Buffer, record?: KafkaRecord): WriterSchema | undefined
}

/** The writer schema of one record, as `es tail` shows it (`schema` in ndjson). */
export interface WriterSchema {
  /** Full name of the record (Avro) or message type (Protobuf). */
  name?: string
  /** Confluent registry id. */
  id?: number
  /** CRC-64-AVRO fingerprint, 16 hex digits. */
  fingerprint?: string
}

export function fingerprintHex(fingerprint: bigint): string {
  return fingerprint.toString(16).padStart(16, '0')
}

/** Where encoded bytes go: the registry subject of `topic` strategies depends on it. */
export interface EncodeContext {
  topic: string
  part: 'key' | 'value'
  /** The headers the record will carry (a Protobuf message type read from a header). */
  headers?: Record<string, string>
}

/**
 * How a record names its writer schema: single-object encoding by fingerprint, Confluent by id;
 * when encoding, a registry subject whose id is looked up (or registered).
 */
export type SchemaRef =
  | { kind: 'fingerprint'; fingerprint: bigint }
  | { kind: 'id'; id: number }
  | { kind: 'subject'; subject: string }

export function fingerprintRef(fingerprint: bigint): SchemaRef {
  return { kind: 'fingerprint', fingerprint }
}

export function schemaIdRef(id: number): SchemaRef {
  return { kind: 'id', id }
}

/** `schema fingerprint 0x97bffaf678211371` / `schema id 7`, for messages. */
export function describeSchemaRef(ref: SchemaRef): string {
  if (ref.kind === 'fingerprint') return `schema fingerprint 0x${ref.fingerprint.toString(16).padStart(16, '0')}`
  return ref.kind === 'id' ? `schema id ${ref.id}` : `the schema of subject ${ref.subject}`
}

/** A stable string form, for maps keyed by reference. */
export function schemaRefKey(ref: SchemaRef): string {
  if (ref.kind === 'fingerprint') return `f:${ref.fingerprint}`
  return ref.kind === 'id' ? `i:${ref.id}` : `s:${ref.subject}`
}

/** The registry subject of a schema (Confluent's subject name strategies). */
export function subjectName(
  strategy: 'topic' | 'record' | 'topic-record' | undefined,
  context: EncodeContext | undefined,
  recordName: string | undefined,
): string {
  const how = strategy ?? 'topic'
  if (how !== 'topic' && recordName === undefined) {
    throw new EncodeError(`subject name strategy ${how} needs the schema's record name`, { code: 'NO_SUBJECT' })
  }
  if (how === 'record') return recordName as string
  if (context === undefined) {
    throw new EncodeError(`subject name strategy ${how} needs the topic written to`, { code: 'NO_SUBJECT' })
  }
  return how === 'topic' ? `${context.topic}-${context.part}` : `${context.topic}-${recordName}`
}
