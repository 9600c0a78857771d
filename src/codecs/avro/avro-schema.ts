/**
 * One Avro schema, compiled: parsed type graph, Parsing Canonical Form, CRC-64-AVRO fingerprint,
 * and its binary reader and writer. Compiling happens once per schema (per file, per fingerprint
 * seen, per registry id); decoding a datum allocates nothing beyond the value itself.
 */
import { DecodeError } from '../codec-errors.js'
import { type BinaryCursor, compileReader, type ReadFn, truncated } from './binary-reader.js'
import { BinaryOutput, compileWriter, type WriteFn } from './binary-writer.js'
import { parsingCanonicalForm } from './canonical-form.js'
import { crc64Avro } from './crc64.js'
import { type AvroType, parseAvroSchema, schemaName } from './schema.js'

export class AvroSchema {
  readonly type: AvroType
  /** Full name of the top-level named type (`bank.Movement`); undefined for `"string"`, arrays… */
  readonly name: string | undefined
  readonly canonicalForm: string
  readonly fingerprint: bigint
  private readonly read: ReadFn
  private writer: WriteFn | undefined
  // Reused by every decode: decoding is synchronous, so one cursor per schema is enough.
  private readonly cursor: BinaryCursor = { buf: Buffer.alloc(0), pos: 0 }

  /** Throws `AvroSchemaError` for a schema that is not valid Avro. */
  constructor(schema: unknown) {
    this.type = parseAvroSchema(schema)
    this.name = schemaName(this.type)
    this.canonicalForm = parsingCanonicalForm(this.type)
    this.fingerprint = crc64Avro(Buffer.from(this.canonicalForm, 'utf8'))
    this.read = compileReader(this.type)
  }

  /** A name for messages: the full name, else the canonical form (`"string"`). */
  get label(): string {
    return this.name ?? this.canonicalForm
  }

  /** Decodes the datum that fills `bytes` from `start` to the end. Throws `DecodeError`. */
  decode(bytes: Buffer, start = 0): unknown {
    const cursor = this.cursor
    cursor.buf = bytes
    cursor.pos = start
    let value: unknown
    try {
      value = this.read(cursor)
    } catch (error) {
      if (error instanceof DecodeError) throw error
      // Buffer reads past the end throw RangeError; anything else is corrupt input too.
      if (error instanceof RangeError) throw truncated()
      throw new DecodeError(`invalid Avro datum: ${(error as Error).message}`, { code: 'AVRO_INVALID' })
    }
    if (cursor.pos > bytes.length) throw truncated()
    if (cursor.pos < bytes.length) {
      const extra = bytes.length - cursor.pos
      throw new DecodeError(
        `${extra} byte${extra === 1 ? '' : 's'} left after the Avro datum (${this.label}): written with another schema?`,
        { code: 'AVRO_TRAILING_BYTES' },
      )
    }
    return value
  }

  /** Encodes a value, after `prefix` (a framing header). Throws `EncodeError`. */
  encode(value: unknown, prefix?: Uint8Array): Buffer {
    this.writer ??= compileWriter(this.type)
    const out = new BinaryOutput()
    if (prefix) out.bytes(prefix)
    this.writer(out, value, '$')
    return out.result()
  }
}
