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
  /** Avro codecs: the full name of the schema these bytes were written with, if known. */
  schemaNameOf?(bytes: Buffer): string | undefined
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
