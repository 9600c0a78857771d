/**
 * One Avro schema, compiled by avsc (avsc-types.ts): its Parsing Canonical Form, CRC-64-AVRO
 * fingerprint, decoding to plain JSON and encoding from it (value-mapping.ts), and schema
 * resolution against the schema a datum was written with (`readerFor`). Compiling happens once
 * per schema (per file, per fingerprint seen, per registry id) and once per writer/reader pair.
 */
import type avsc from 'avsc'
import { DecodeError, EncodeError } from '../codec-errors.js'
import { InMemorySchemaSource } from '../schema-source.js'
import { compileAvscType } from './avsc-types.js'
import { parsingCanonicalForm } from './canonical-form.js'
import { crc64Avro } from './crc64.js'
import {
  compileFromJson,
  compileToJson,
  describeType,
  describeValue,
  type FromJson,
  type ToJson,
} from './value-mapping.js'

/** A schema that is not valid Avro; callers turn it into a ConfigError or DecodeError with context. */
export class AvroSchemaError extends Error {}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'])

/** Schema JSON text (or a bare primitive name) or a parsed document → avsc type. */
function compileSchema(schema: unknown): avsc.Type {
  let document = schema
  if (typeof schema === 'string') {
    const trimmed = schema.trim()
    if (PRIMITIVES.has(trimmed)) document = trimmed
    else {
      try {
        document = JSON.parse(trimmed)
      } catch (error) {
        throw new AvroSchemaError(`schema is not valid JSON: ${(error as Error).message.split('\n')[0]}`)
      }
    }
  }
  try {
    return compileAvscType(document)
  } catch (error) {
    throw new AvroSchemaError((error as Error).message)
  }
}

export class AvroSchema {
  readonly type: avsc.Type
  /** Full name of the top-level named type (`bank.Movement`); undefined for `"string"`, arrays… */
  readonly name: string | undefined
  readonly canonicalForm: string
  readonly fingerprint: bigint
  /** Where it came from, for messages: a file, `schema id 7`, … (set by whoever knows). */
  origin?: string
  private readonly toJson: ToJson
  private fromJson: FromJson | undefined
  private readonly readers = new Map<AvroSchema, ResolvedReader>()

  /** Throws `AvroSchemaError` for a schema that is not valid Avro. */
  constructor(schema: unknown, origin?: string) {
    this.type = compileSchema(schema)
    this.name = this.type.name
    this.canonicalForm = parsingCanonicalForm(this.type)
    this.fingerprint = crc64Avro(Buffer.from(this.canonicalForm, 'utf8'))
    this.toJson = compileToJson(this.type)
    this.origin = origin
  }

  /** A name for messages: the full name, else the canonical form (`"string"`). */
  get label(): string {
    return this.name ?? this.canonicalForm
  }

  /** The label and where the schema came from: `bank.Cart (Cart-v3.avsc)`. */
  get described(): string {
    return this.origin ? `${this.label} (${this.origin})` : this.label
  }

  /** Decodes the datum that fills `bytes` from `start` to the end. Throws `DecodeError`. */
  decode(bytes: Buffer, start = 0): unknown {
    return decodeWith(this.type, undefined, this.toJson, this.label, bytes, start)
  }

  /**
   * This schema as the reader of datums written with `writer`, by Avro's resolution rules
   * (defaults filled, removed fields dropped, promotions, aliases). Throws DecodeError naming both
   * schemas and the field when they are incompatible.
   */
  readerFor(writer: AvroSchema): ResolvedReader {
    let reader = this.readers.get(writer)
    if (!reader) {
      try {
        reader = this.resolve(writer)
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error
        // Remembered: every record of that writer fails the same way, without resolving again.
        reader = {
          decode: () => {
            throw error
          },
        }
      }
      this.readers.set(writer, reader)
    }
    return reader
  }

  /** Like `readerFor`, uncached, throwing the DecodeError of an incompatible pair. */
  resolve(writer: AvroSchema): ResolvedReader {
    return writer.fingerprint === this.fingerprint ? writer : new Resolution(this, writer)
  }

  /** Encodes a value, after `prefix` (a framing header). Throws `EncodeError` naming the path. */
  encode(value: unknown, prefix?: Uint8Array): Buffer {
    this.fromJson ??= compileFromJson(this.type)
    const prepared = this.fromJson(value, '$')
    let problem: { path: string[]; value: unknown; type: avsc.Type } | undefined
    const valid = this.type.isValid(prepared, {
      errorHook: (path, invalid, type) => {
        problem ??= { path: [...path], value: invalid, type }
      },
    })
    if (!valid) {
      const at = problem ? formatPath(problem.path) : '$'
      const got = problem?.value
      const expected = problem ? describeType(problem.type) : describeType(this.type)
      throw new EncodeError(
        got === undefined
          ? `${at}: missing (expected ${expected})`
          : `${at}: expected ${expected}, got ${describeValue(got)}`,
        { code: 'AVRO_ENCODE_MISMATCH', where: { path: at } },
      )
    }
    const datum = this.type.toBuffer(prepared)
    return prefix ? Buffer.concat([prefix, datum]) : datum
  }
}

/** Decodes datums into one schema's shape: the schema itself, or a writer → reader resolution. */
export interface ResolvedReader {
  decode(bytes: Buffer, start?: number): unknown
}

class Resolution implements ResolvedReader {
  private readonly resolver: unknown
  private readonly toJson: ToJson

  constructor(
    private readonly reader: AvroSchema,
    writer: AvroSchema,
  ) {
    try {
      this.resolver = reader.type.createResolver(writer.type)
    } catch (error) {
      throw new DecodeError(
        `writer schema ${writer.described} cannot be read as reader schema ${reader.described}: ${describeIncompatibility((error as Error).message)}`,
        { code: 'AVRO_INCOMPATIBLE_SCHEMAS' },
      )
    }
    this.toJson = compileToJson(reader.type)
  }

  decode(bytes: Buffer, start = 0): unknown {
    return decodeWith(this.reader.type, this.resolver, this.toJson, this.reader.label, bytes, start)
  }
}

/** avsc's resolution errors, in the words of Avro's resolution rules. */
function describeIncompatibility(message: string): string {
  const missing = /^no matching field for default-less (\S+)\.(\w+)$/.exec(message)
  if (missing) return `field "${missing[2]}" is not in the writer's ${missing[1]} and has no default in the reader`
  const alias = /^no alias found for (\S+)$/.exec(message)
  if (alias) return `the writer's ${alias[1]} matches neither the reader's name nor its aliases`
  const types = /^cannot read (.+) as (.+)$/s.exec(message)
  if (types) return `a ${types[1]} cannot be read as ${types[2]}`
  return message
}

function decodeWith(
  type: avsc.Type,
  resolver: unknown,
  toJson: ToJson,
  label: string,
  bytes: Buffer,
  start: number,
): unknown {
  let result: { value: unknown; offset: number }
  try {
    result = type.decode(bytes, start, resolver as avsc.Type)
  } catch (error) {
    throw new DecodeError(`invalid Avro datum: ${(error as Error).message}`, { code: 'AVRO_INVALID' })
  }
  if (result.offset < 0 || result.offset > bytes.length) {
    throw new DecodeError('truncated Avro datum', { code: 'AVRO_TRUNCATED' })
  }
  if (result.offset < bytes.length) {
    const extra = bytes.length - result.offset
    throw new DecodeError(
      `${extra} byte${extra === 1 ? '' : 's'} left after the Avro datum (${label}): written with another schema?`,
      { code: 'AVRO_TRAILING_BYTES' },
    )
  }
  return toJson(result.value)
}

function formatPath(parts: readonly string[]): string {
  let path = '$'
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : `.${part}`
  return path
}

/**
 * CRC-64-AVRO of a schema's Parsing Canonical Form (Java: SchemaNormalization.parsingFingerprint64),
 * from schema text, a parsed schema document or a compiled schema.
 */
export function parsingFingerprint64(schema: AvroSchema | string | object): bigint {
  return (schema instanceof AvroSchema ? schema : new AvroSchema(schema)).fingerprint
}

/** A fixed set of Avro schemas keyed by their CRC-64-AVRO fingerprint, as single-object encoding names them. */
export function schemasByFingerprint(schemas: Array<string | object>, description?: string): InMemorySchemaSource {
  return new InMemorySchemaSource(
    schemas.map((schema) => ({
      ref: { kind: 'fingerprint', fingerprint: new AvroSchema(schema).fingerprint },
      schema,
    })),
    description,
  )
}
