/**
 * The three Avro framings:
 *   avro                 a raw binary datum, one schema from a local .avsc (seed 000)
 *   avro-single-object   C3 01 + CRC-64-AVRO fingerprint of the writer schema (little-endian) +
 *                        datum; an empty value stands for null (seed 001, the Kaa registry)
 *   avro-confluent       00 + 4-byte big-endian registry id + datum
 * Without a reader schema, every datum is decoded with its writer's own schema, so the value is
 * exactly what the producer wrote; with one (`readerSchema`), into the reader's shape by Avro's
 * resolution rules. Schemas not yet held raise `MissingSchemaError`; see codec-errors.ts for the
 * load-and-retry protocol.
 */
import type avsc from 'avsc'
import { AvroSchema, AvroSchemaError, type ResolvedReader } from './avro/avro-schema.js'
import {
  type Codec,
  describeSchemaRef,
  type EncodeContext,
  fingerprintHex,
  fingerprintRef,
  type SchemaRef,
  schemaIdRef,
  schemaRefKey,
  subjectName,
  type WriterSchema,
} from './codec.js'
import { DecodeError, EncodeError, MissingSchemaError } from './codec-errors.js'
import type { FileSchemaSource } from './file-schema-source.js'
import type { RegistryClient } from './registry-client.js'
import type { SchemaSource } from './schema-source.js'
import type { SchemaTopicSource } from './schema-topic-source.js'

export class RawAvroCodec implements Codec {
  readonly name = 'avro'
  private readonly reader: ResolvedReader

  /** `reader`: the reader schema; throws DecodeError when it cannot read `schema`'s datums. */
  constructor(
    readonly schema: AvroSchema,
    reader?: AvroSchema,
  ) {
    this.reader = reader ? reader.resolve(schema) : schema
  }

  decode(bytes: Buffer | null): unknown {
    return bytes === null ? null : this.reader.decode(bytes)
  }

  encode(value: unknown): Buffer | null {
    return value === null || value === undefined ? null : this.schema.encode(value)
  }

  schemaOf(): WriterSchema {
    return { name: this.schema.name, fingerprint: fingerprintHex(this.schema.fingerprint) }
  }
}

/** How a datum written with `writer` is read: as written, or into the reader schema's shape. */
function readerOf(writer: AvroSchema, reader: AvroSchema | undefined): ResolvedReader {
  return reader ? reader.readerFor(writer) : writer
}

/**
 * Schemas fetched from sources, compiled once per reference. Remembers references no source has
 * (or whose schema is broken) so those records fail fast as plain DecodeErrors instead of
 * asking for a load again and again.
 */
class SchemaCache {
  private readonly failures = new Map<string, DecodeError>()

  constructor(
    private readonly sources: readonly SchemaSource[],
    private readonly remember: (ref: SchemaRef, schema: AvroSchema) => void,
  ) {}

  /** Sync: compile what a source already holds. Returns undefined if none holds it. */
  lookup(ref: SchemaRef): AvroSchema | undefined {
    for (const source of this.sources) {
      const text = source.get(ref)
      if (text !== undefined) return this.compile(ref, text, source)
    }
    return undefined
  }

  /** The error to throw for a reference that is not held: known failure, else "please load". */
  missing(ref: SchemaRef, load: () => Promise<void>): DecodeError {
    const failure = this.failures.get(schemaRefKey(ref))
    if (failure) return failure
    return new MissingSchemaError(ref, load)
  }

  async load(ref: SchemaRef): Promise<void> {
    for (const source of this.sources) {
      let text: string | undefined
      try {
        text = await source.load(ref)
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error
        this.failures.set(schemaRefKey(ref), error)
        return
      }
      if (text !== undefined) {
        try {
          this.compile(ref, text, source)
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error
        }
        return
      }
    }
    this.failures.set(
      schemaRefKey(ref),
      new DecodeError(`unknown ${describeSchemaRef(ref)}`, {
        code: 'UNKNOWN_SCHEMA',
        suggestion: `none of ${this.sources.map((s) => s.description).join(', ') || 'the schema sources'} has it`,
      }),
    )
  }

  private compile(ref: SchemaRef, text: string, source: SchemaSource): AvroSchema {
    try {
      const schema = new AvroSchema(text, `${describeSchemaRef(ref)} from ${source.description}`)
      this.remember(ref, schema)
      this.failures.delete(schemaRefKey(ref))
      return schema
    } catch (error) {
      if (!(error instanceof AvroSchemaError)) throw error
      const failure = new DecodeError(
        `${describeSchemaRef(ref)} from ${source.description} is not valid Avro: ${error.message}`,
        { code: 'INVALID_SCHEMA' },
      )
      this.failures.set(schemaRefKey(ref), failure)
      throw failure
    }
  }
}

const SINGLE_OBJECT_HEADER = 10

export interface SingleObjectSources {
  /** The configured .avsc files; encoding uses the first of these that accepts the value. */
  files?: FileSchemaSource
  topic?: SchemaTopicSource
  /** Any further sources (tests). */
  others?: SchemaSource[]
  /** Decode into this schema's shape (Avro schema resolution). */
  reader?: AvroSchema
}

export class SingleObjectCodec implements Codec {
  readonly name = 'avro-single-object'
  /** The schema-topic source this codec reads, for the Kafka reader to feed. */
  readonly schemaTopic?: SchemaTopicSource
  private readonly files?: FileSchemaSource
  private readonly reader?: AvroSchema
  private readonly cache: SchemaCache
  /** Compiled schemas by the low 32 bits of the fingerprint, then the high 32: no allocation per lookup. */
  private readonly byLow = new Map<number, Array<{ high: number; schema: AvroSchema }>>()
  private lastLow = -1
  private lastHigh = -1
  private lastSchema: AvroSchema | undefined

  constructor(sources: SingleObjectSources) {
    this.files = sources.files
    this.reader = sources.reader
    this.schemaTopic = sources.topic
    const all = [sources.files, sources.topic, ...(sources.others ?? [])].filter((s): s is SchemaSource => !!s)
    this.cache = new SchemaCache(all, (ref, schema) => {
      if (ref.kind === 'fingerprint') this.remember(ref.fingerprint, schema)
    })
    for (const schema of sources.files?.schemas ?? []) this.remember(schema.fingerprint, schema)
  }

  decode(bytes: Buffer | null): unknown {
    if (bytes === null || bytes.length === 0) return null
    return readerOf(this.writerOf(bytes), this.reader).decode(bytes, SINGLE_OBJECT_HEADER)
  }

  /** Encodes with the first configured schema file that accepts the value. */
  encode(value: unknown): Buffer | null {
    if (value === null || value === undefined) return null
    const candidates = this.files?.schemas ?? []
    if (candidates.length === 0) {
      throw new EncodeError(
        'avro-single-object encodes with the schemas listed in codec "schemas"; none is configured',
        {
          code: 'NO_WRITER_SCHEMA',
        },
      )
    }
    return encodeWithFirstFitting(candidates, value, singleObjectHeader)
  }

  async loadSchema(ref: SchemaRef): Promise<void> {
    await this.cache.load(ref)
  }

  schemaOf(bytes: Buffer): WriterSchema | undefined {
    if (bytes.length < SINGLE_OBJECT_HEADER || bytes[0] !== 0xc3 || bytes[1] !== 0x01) return undefined
    const fingerprint = bytes.readBigUInt64LE(2)
    const name = this.find(bytes.readUInt32LE(2), bytes.readUInt32LE(6))?.name
    return { ...(name === undefined ? {} : { name }), fingerprint: fingerprintHex(fingerprint) }
  }

  private writerOf(bytes: Buffer): AvroSchema {
    if (bytes.length < SINGLE_OBJECT_HEADER || bytes[0] !== 0xc3 || bytes[1] !== 0x01) {
      throw new DecodeError(
        `not Avro single-object encoding (expected C3 01 and an 8-byte fingerprint, got ${describeStart(bytes)})`,
        { code: 'NOT_SINGLE_OBJECT' },
      )
    }
    const low = bytes.readUInt32LE(2)
    const high = bytes.readUInt32LE(6)
    const known = this.find(low, high)
    if (known) return known
    const ref = fingerprintRef((BigInt(high) << 32n) | BigInt(low))
    const fetched = this.cache.lookup(ref)
    if (fetched) return fetched
    throw this.cache.missing(ref, () => this.loadSchema(ref))
  }

  private find(low: number, high: number): AvroSchema | undefined {
    if (low === this.lastLow && high === this.lastHigh) return this.lastSchema
    const entries = this.byLow.get(low)
    if (!entries) return undefined
    for (const entry of entries) {
      if (entry.high === high) {
        this.lastLow = low
        this.lastHigh = high
        this.lastSchema = entry.schema
        return entry.schema
      }
    }
    return undefined
  }

  private remember(fingerprint: bigint, schema: AvroSchema): void {
    const low = Number(fingerprint & 0xffffffffn)
    const high = Number(fingerprint >> 32n)
    const entries = this.byLow.get(low) ?? []
    const existing = entries.findIndex((entry) => entry.high === high)
    if (existing >= 0) entries[existing] = { high, schema }
    else entries.push({ high, schema })
    this.byLow.set(low, entries)
    if (low === this.lastLow && high === this.lastHigh) this.lastSchema = schema
  }
}

function singleObjectHeader(schema: AvroSchema): Buffer {
  const header = Buffer.alloc(SINGLE_OBJECT_HEADER)
  header[0] = 0xc3
  header[1] = 0x01
  header.writeBigUInt64LE(schema.fingerprint, 2)
  return header
}

const CONFLUENT_HEADER = 5

export class ConfluentAvroCodec implements Codec {
  readonly name = 'avro-confluent'
  private readonly byId = new Map<number, AvroSchema>()
  private readonly cache: SchemaCache

  private readonly subjectIds = new Map<string, number>()

  /**
   * Encoding, in this order: `schemaId`; the local `writer` schema, registered under its subject
   * (looked up first; `autoRegister` false refuses to register); the latest version of the topic
   * subject. `reader`: decode into its shape (see SingleObjectSources).
   */
  constructor(
    registry: SchemaSource,
    private readonly options: {
      schemaId?: number
      reader?: AvroSchema
      writer?: AvroSchema
      client?: RegistryClient
      autoRegister?: boolean
      subjectNameStrategy?: 'topic' | 'record' | 'topic-record'
    } = {},
  ) {
    this.reader = options.reader
    this.cache = new SchemaCache([registry], (ref, schema) => {
      if (ref.kind === 'id') this.byId.set(ref.id, schema)
    })
  }

  private readonly reader?: AvroSchema

  decode(bytes: Buffer | null): unknown {
    if (bytes === null) return null
    if (bytes.length < CONFLUENT_HEADER || bytes[0] !== 0) {
      throw new DecodeError(
        `not Confluent Avro framing (expected a 0x00 magic byte and a 4-byte schema id, got ${describeStart(bytes)})`,
        { code: 'NOT_CONFLUENT_FRAMING' },
      )
    }
    return readerOf(this.schemaFor(bytes.readUInt32BE(1)), this.reader).decode(bytes, CONFLUENT_HEADER)
  }

  encode(value: unknown, context?: EncodeContext): Buffer | null {
    if (value === null || value === undefined) return null
    const { schemaId, writer, client } = this.options
    if (schemaId !== undefined) return this.schemaFor(schemaId).encode(value, confluentHeader(schemaId))
    if (!client) {
      throw new EncodeError('avro-confluent needs a schema id to encode with', {
        code: 'NO_WRITER_SCHEMA',
        suggestion: 'set "schemaId" on the codec in the config (the id the registry gave the schema)',
      })
    }
    const subject = subjectName(this.options.subjectNameStrategy, context, writer?.name)
    const id = this.subjectIds.get(subject)
    if (id === undefined) {
      const ref: SchemaRef = { kind: 'subject', subject }
      throw new MissingSchemaError(ref, async () => {
        if (writer) {
          const registered = await client.idFor(
            subject,
            { schema: writer.canonicalForm, schemaType: 'AVRO' },
            this.options.autoRegister ?? true,
          )
          this.byId.set(registered, writer)
          this.subjectIds.set(subject, registered)
        } else {
          const latest = await client.version(subject, 'latest')
          this.byId.set(latest.id, new AvroSchema(latest.schema, `schema id ${latest.id} (${subject})`))
          this.subjectIds.set(subject, latest.id)
        }
      })
    }
    return this.schemaFor(id).encode(value, confluentHeader(id))
  }

  async loadSchema(ref: SchemaRef): Promise<void> {
    await this.cache.load(ref)
  }

  schemaOf(bytes: Buffer): WriterSchema | undefined {
    if (bytes.length < CONFLUENT_HEADER || bytes[0] !== 0) return undefined
    const id = bytes.readUInt32BE(1)
    const name = this.byId.get(id)?.name
    return { ...(name === undefined ? {} : { name }), id }
  }

  private schemaFor(id: number): AvroSchema {
    const known = this.byId.get(id)
    if (known) return known
    const ref = schemaIdRef(id)
    const fetched = this.cache.lookup(ref)
    if (fetched) return fetched
    throw this.cache.missing(ref, () => this.loadSchema(ref))
  }
}

function confluentHeader(id: number): Buffer {
  const header = Buffer.alloc(CONFLUENT_HEADER)
  header.writeUInt32BE(id, 1)
  return header
}

/**
 * Encodes with the first schema that takes the value. Writers ignore unknown properties, so
 * `{amount, error}` would fit `Operation{amount}` too: schemas whose top-level record has a field
 * for every property of the value are tried first.
 */
function encodeWithFirstFitting(
  schemas: readonly AvroSchema[],
  value: unknown,
  header: (schema: AvroSchema) => Uint8Array,
): Buffer {
  const exact = schemas.filter((schema) => coversAllProperties(schema, value))
  const ordered = [...exact, ...schemas.filter((schema) => !exact.includes(schema))]
  let first: { schema: AvroSchema; error: EncodeError } | undefined
  for (const schema of ordered) {
    try {
      return schema.encode(value, header(schema))
    } catch (error) {
      if (!(error instanceof EncodeError)) throw error
      first ??= { schema, error }
    }
  }
  if (schemas.length === 1 && first) throw first.error
  throw new EncodeError(
    `value fits none of the schemas ${schemas.map((s) => s.label).join(', ')} (${first?.schema.label}: ${first?.error.message})`,
    { code: 'AVRO_ENCODE_MISMATCH' },
  )
}

function coversAllProperties(schema: AvroSchema, value: unknown): boolean {
  if (schema.type.typeName !== 'record' || typeof value !== 'object' || value === null) return false
  const fields = new Set((schema.type as avsc.types.RecordType).fields.map((field) => field.name))
  return Object.keys(value).every((key) => fields.has(key))
}

function describeStart(bytes: Buffer): string {
  if (bytes.length === 0) return 'no bytes'
  const shown = bytes
    .subarray(0, 4)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?=.)/g, '$1 ')
  return `${shown}${bytes.length > 4 ? ' …' : ''} (${bytes.length} bytes)`
}
