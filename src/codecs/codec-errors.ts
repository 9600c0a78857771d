/**
 * Errors of the codec layer. All are `InvalidDataError`s (exit 5): a record that cannot be
 * decoded, or a value that cannot be encoded (a command that does not fit its schema).
 */
import { describeRecordPosition, type ErrorDetails, InvalidDataError } from '../errors.js'
import { describeSchemaRef, type SchemaRef, schemaRefKey } from './codec.js'

type Details = Partial<ErrorDetails>

/** Bytes that cannot be decoded; the message is a short reason, `where` says where when known. */
export class DecodeError extends InvalidDataError {
  /** The reason without any position prefix, e.g. `not valid JSON at position 12`. */
  readonly reason: string

  constructor(reason: string, details: Details = {}, message?: string) {
    super(message ?? reason, { code: 'DECODE_FAILED', ...details })
    this.reason = reason
  }

  /** The same error, placed at a record: `cannot decode value of orders/3@42: <reason>`. */
  atRecord(
    position: { topic: string; partition: number; offset: number },
    part: string,
    extra?: Record<string, unknown>,
  ): DecodeError {
    return new DecodeError(this.reason, this.detailsAt(position, part, extra), this.messageAt(position, part))
  }

  protected detailsAt(
    position: { topic: string; partition: number; offset: number },
    part: string,
    extra?: Record<string, unknown>,
  ): Details {
    return {
      code: this.code,
      suggestion: this.suggestion,
      cause: this.cause,
      where: {
        ...this.where,
        topic: position.topic,
        partition: position.partition,
        offset: position.offset,
        part,
        ...extra,
      },
    }
  }

  protected messageAt(position: { topic: string; partition: number; offset: number }, part: string): string {
    return `cannot decode ${part} of ${describeRecordPosition(position.topic, position.partition, position.offset)}: ${this.reason}`
  }
}

/** A value that does not fit the codec (e.g. a command payload against an Avro schema). */
export class EncodeError extends InvalidDataError {
  constructor(message: string, details: Details = {}) {
    super(message, { code: 'ENCODE_FAILED', ...details })
  }
}

/**
 * The record names a schema the codec does not hold yet. Decoding cannot wait for I/O, so the
 * caller catches this, awaits `load()` (or `codec.loadSchema(ref)`) and retries once; see
 * `retryAfterLoadingSchemas`. Left uncaught it is an ordinary decode failure (exit 5).
 */
export class MissingSchemaError extends DecodeError {
  readonly ref: SchemaRef
  /** Fetches the schema into the codec that threw. */
  readonly load: () => Promise<void>

  constructor(ref: SchemaRef, load: () => Promise<void>, details: Details = {}, message?: string) {
    super(`${describeSchemaRef(ref)} is not loaded`, { code: 'SCHEMA_NOT_LOADED', ...details }, message)
    this.ref = ref
    this.load = load
  }

  override atRecord(
    position: { topic: string; partition: number; offset: number },
    part: string,
    extra?: Record<string, unknown>,
  ): MissingSchemaError {
    return new MissingSchemaError(
      this.ref,
      this.load,
      this.detailsAt(position, part, extra),
      this.messageAt(position, part),
    )
  }
}

/**
 * Runs a synchronous decode (or encode) and, each time it reports a missing schema, loads that
 * schema and runs it again. A record may miss two schemas (key and value), so this loops; a schema
 * that is still missing after its load fails as the `DecodeError` the retry throws.
 */
export async function retryAfterLoadingSchemas<T>(run: () => T): Promise<T> {
  const loaded = new Set<string>()
  for (;;) {
    try {
      return run()
    } catch (error) {
      if (!(error instanceof MissingSchemaError)) throw error
      const key = schemaRefKey(error.ref)
      if (loaded.has(key)) {
        // The codec should have turned this into a plain DecodeError after loading; be safe.
        throw new DecodeError(`unknown ${describeSchemaRef(error.ref)}`, { where: error.where })
      }
      loaded.add(key)
      await error.load()
    }
  }
}

/**
 * The one decode path with schema loading: `decode` runs synchronously (the hot path never
 * awaits); only when it reports a missing schema (Confluent registry, schema topic) is the schema
 * loaded and the decode retried, asynchronously. Every command that decodes goes through this.
 */
export function loadingSchemas<A, T>(decode: (input: A) => T): (input: A) => T | Promise<T> {
  return (input) => {
    try {
      return decode(input)
    } catch (error) {
      if (error instanceof MissingSchemaError) return retryAfterLoadingSchemas(() => decode(input))
      throw error
    }
  }
}
