/**
 * The codec port: bytes of a record key or value ↔ a JSON-friendly value. Decoding is synchronous
 * because it sits in the hot loop of tail and replay (about a million records a second); anything
 * that needs I/O (fetching an Avro schema from a registry) happens outside it, through
 * `MissingSchemaError` and `loadSchema` (see codec-errors.ts).
 */

export interface Codec {
  /** The codec type as configured: `json`, `avro-single-object`, … */
  readonly name: string
  /** Bytes → value. `null` bytes (a tombstone) decode to `null`. Throws `DecodeError`. */
  decode(bytes: Buffer | null): unknown
  /** Value → bytes. `null`/`undefined` encode to `null` (a tombstone). Throws `EncodeError`. */
  encode(value: unknown): Buffer | null
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
  schemaOf?(bytes: Buffer): WriterSchema | undefined
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

/** How a record names its writer schema: single-object encoding by fingerprint, Confluent by id. */
export type SchemaRef = { kind: 'fingerprint'; fingerprint: bigint } | { kind: 'id'; id: number }

export function fingerprintRef(fingerprint: bigint): SchemaRef {
  return { kind: 'fingerprint', fingerprint }
}

export function schemaIdRef(id: number): SchemaRef {
  return { kind: 'id', id }
}

/** `schema fingerprint 0x97bffaf678211371` / `schema id 7`, for messages. */
export function describeSchemaRef(ref: SchemaRef): string {
  return ref.kind === 'fingerprint'
    ? `schema fingerprint 0x${ref.fingerprint.toString(16).padStart(16, '0')}`
    : `schema id ${ref.id}`
}

/** A stable string form, for maps keyed by reference. */
export function schemaRefKey(ref: SchemaRef): string {
  return ref.kind === 'fingerprint' ? `f:${ref.fingerprint}` : `i:${ref.id}`
}
