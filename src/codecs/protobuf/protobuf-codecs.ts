/**
 * Protocol Buffers through protobufjs:
 *   protobuf             a message of local .proto files; the message type a full name, or a
 *                        locator (`header:ce_type | simple-name`) when one topic carries several
 *   protobuf-confluent   00 + 4-byte schema id + message indexes + message; schemas (with their
 *                        `references`, the imported files) from the registry
 * Message indexes (Confluent): a zig-zag varint count, then that many zig-zag varint indexes (the
 * path of the message type among the file's messages, then nested ones); the single byte 0 stands
 * for [0], the file's first message. confluent-kafka-python before 1.8 (Debian 12 ships 1.7)
 * wrote them as unsigned varints: read too, when the zig-zag reading names no message.
 * JSON both ways: json-mapping.ts.
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import protobuf from 'protobufjs'
import descriptor from 'protobufjs/ext/descriptor.js'
import {
  compileLocatorReader,
  type LocatorReader,
  newJsonStageCache,
  parseLocator,
  toText,
} from '../../envelope/locator.js'
import { ConfigError } from '../../errors.js'
import type { KafkaRecord } from '../../kafka/record.js'
import { type Codec, type EncodeContext, schemaIdRef, subjectName, type WriterSchema } from '../codec.js'
import { DecodeError, EncodeError, MissingSchemaError } from '../codec-errors.js'
import type { RegisteredSchema, RegistryClient } from '../registry-client.js'
import { jsonToObject, type MappingOptions, messageToJson } from './json-mapping.js'

/** A set of message types (one protobufjs Root) and, per file, its top-level messages in order. */
export class ProtoSchema {
  constructor(
    readonly root: protobuf.Root,
    /** Full names (leading dot) of each file's top-level messages, in declaration order. */
    private readonly files: Map<string, string[]>,
    readonly mainFile: string,
    readonly description: string,
  ) {}

  /** Local .proto files; imports relative to the importing file, then to `baseDir`. */
  static fromFiles(files: readonly string[], baseDir: string, configPath: string): ProtoSchema {
    const root = new protobuf.Root()
    root.resolvePath = (origin, target) => {
      if (isAbsolute(target)) return target
      if (/^google\/protobuf\//.test(target)) return target
      const beside = origin ? resolve(dirname(origin), target) : resolve(baseDir, target)
      try {
        readFileSync(beside)
        return beside
      } catch {
        return resolve(baseDir, target)
      }
    }
    const order = new Map<string, string[]>()
    try {
      root.loadSync(files as string[], { keepCase: true })
      for (const file of files) order.set(file, topLevelMessages(readFileSync(file, 'utf8')))
      root.resolveAll()
    } catch (error) {
      throw new ConfigError(`cannot load ${files.join(', ')}: ${(error as Error).message} (${configPath})`, {
        code: 'CONFIG_INVALID',
        where: { path: configPath },
      })
    }
    return new ProtoSchema(root, order, files[0], files.join(', '))
  }

  /**
   * A registry schema and its references (fetched with `reference`): .proto text, or a base64
   * FileDescriptorProto as confluent-kafka-python registers them.
   */
  static async fromRegistry(
    main: RegisteredSchema,
    reference: (subject: string, version: number) => Promise<RegisteredSchema>,
  ): Promise<ProtoSchema> {
    const texts = new Map<string, string>()
    const collect = async (schema: RegisteredSchema) => {
      for (const ref of schema.references) {
        if (texts.has(ref.name)) continue
        const found = await reference(ref.subject, ref.version)
        texts.set(ref.name, found.schema)
        await collect(found)
      }
    }
    await collect(main)
    const mainName = `schema-${main.id}.proto`
    texts.set(mainName, main.schema)
    const order = new Map<string, string[]>()
    if (isProtoText(main.schema)) {
      const root = new protobuf.Root()
      for (const [name, text] of texts) {
        if (/^google\/protobuf\//.test(name) && !isProtoText(text)) continue
        const parsed = protobuf.parse(text, root, { keepCase: true })
        order.set(name, topLevelMessages(text))
        for (const imported of parsed.imports ?? []) {
          if (/^google\/protobuf\//.test(imported) && !texts.has(imported)) root.loadSync(imported)
        }
      }
      root.resolveAll()
      return new ProtoSchema(root, order, mainName, `schema id ${main.id}`)
    }
    const set = { file: [] as unknown[] }
    for (const [name, text] of texts) {
      const file = descriptor.FileDescriptorProto.decode(Buffer.from(text, 'base64')) as unknown as {
        name?: string
        package?: string
        messageType?: Array<{ name: string }>
      }
      if (!file.name) file.name = name
      set.file.push(file)
      const prefix = file.package ? `.${file.package}.` : '.'
      order.set(
        name,
        (file.messageType ?? []).map((message) => `${prefix}${message.name}`),
      )
    }
    const root = protobuf.Root.fromDescriptor(set as never) as protobuf.Root
    root.resolveAll()
    return new ProtoSchema(root, order, mainName, `schema id ${main.id}`)
  }

  /** A message type by full name (leading dot optional), else by a unique simple name. */
  find(name: string): protobuf.Type | undefined {
    const full = name.startsWith('.') ? name : `.${name}`
    const direct = this.root.lookup(full)
    if (direct instanceof protobuf.Type) return direct
    const matches: protobuf.Type[] = []
    const visit = (ns: protobuf.NamespaceBase) => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type && nested.name === name) matches.push(nested)
        if (nested instanceof protobuf.Namespace) visit(nested)
      }
    }
    visit(this.root)
    return matches.length === 1 ? matches[0] : undefined
  }

  /** The names of every message type, for "did you mean" lists. */
  typeNames(): string[] {
    const names: string[] = []
    const visit = (ns: protobuf.NamespaceBase) => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type && !nested.fullName.startsWith('.google.protobuf.')) {
          names.push(nested.fullName.slice(1))
        }
        if (nested instanceof protobuf.Namespace) visit(nested)
      }
    }
    visit(this.root)
    return names
  }

  /** The message type at Confluent message indexes in the main file. */
  atIndexes(indexes: readonly number[]): protobuf.Type | undefined {
    const top = this.files.get(this.mainFile) ?? []
    let type = indexes.length > 0 && indexes[0] >= 0 && indexes[0] < top.length ? this.find(top[indexes[0]]) : undefined
    for (const index of indexes.slice(1)) {
      const nested = type?.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type)
      type = nested && index >= 0 && index < nested.length ? nested[index] : undefined
    }
    return type
  }

  /** The message indexes of `type` in the main file (for encoding). */
  indexesOf(type: protobuf.Type): number[] | undefined {
    const path: number[] = []
    let current: protobuf.ReflectionObject = type
    while (current.parent instanceof protobuf.Type) {
      const parent: protobuf.Type = current.parent
      path.unshift(parent.nestedArray.filter((n) => n instanceof protobuf.Type).indexOf(current as protobuf.Type))
      current = parent
    }
    const top = (this.files.get(this.mainFile) ?? []).indexOf(current.fullName)
    return top < 0 ? undefined : [top, ...path]
  }
}

function isProtoText(text: string): boolean {
  return /(^|\n)\s*(syntax|edition|package|message|import|enum|option)\b/.test(text)
}

/** A file's top-level message names in declaration order, from its own text alone. */
function topLevelMessages(text: string): string[] {
  const parsed = protobuf.parse(text, new protobuf.Root(), { keepCase: true })
  const ns = parsed.package ? parsed.root.lookup(parsed.package) : parsed.root
  return ((ns as protobuf.Namespace | null)?.nestedArray ?? [])
    .filter((n) => n instanceof protobuf.Type)
    .map((n) => n.fullName)
}

function decodeMessage(type: protobuf.Type, bytes: Buffer, start: number, options: MappingOptions): unknown {
  let message: protobuf.Message
  try {
    const reader = protobuf.Reader.create(bytes.subarray(start))
    // Unknown fields (a newer writer's) are kept on the message, and shown: see json-mapping.ts.
    reader.discardUnknown = false
    message = type.decode(reader)
  } catch (error) {
    throw new DecodeError(`not a valid ${type.fullName.slice(1)} message: ${(error as Error).message}`, {
      code: 'PROTOBUF_INVALID',
    })
  }
  try {
    return messageToJson(type, message as unknown as Record<string, unknown>, options)
  } catch (error) {
    // A well-known type holding what its JSON form cannot say (a Timestamp's nanos out of range).
    throw new DecodeError(`${type.fullName.slice(1)} has no JSON form: ${(error as Error).message}`, {
      code: 'PROTOBUF_INVALID',
    })
  }
}

function encodeMessage(type: protobuf.Type, value: unknown): Buffer {
  const object = jsonToObject(type, value) as Record<string, unknown>
  try {
    return Buffer.from(type.encode(type.fromObject(object)).finish())
  } catch (error) {
    throw new EncodeError(`cannot encode ${type.fullName.slice(1)}: ${(error as Error).message}`, {
      code: 'PROTOBUF_ENCODE_FAILED',
    })
  }
}

/** The message type of a record: a fixed name, or a locator read from the record. */
class MessageTypeChoice {
  private readonly locator?: LocatorReader
  private readonly fixed?: protobuf.Type

  constructor(
    private readonly schema: ProtoSchema,
    readonly spec: string,
    configPath: string,
  ) {
    if (/^(header:|key\b|topic\b|\$)/.test(spec) || spec.includes('|')) {
      this.locator = compileLocatorReader(parseLocator(spec, `${configPath}.messageType`))
    } else {
      this.fixed = schema.find(spec)
      if (!this.fixed) {
        throw new ConfigError(`message type ${spec} is not in ${schema.description} (${configPath}.messageType)`, {
          code: 'CONFIG_INVALID',
          where: { path: `${configPath}.messageType` },
          suggestion: `known types: ${schema.typeNames().slice(0, 10).join(', ')}`,
        })
      }
    }
  }

  of(record: Pick<KafkaRecord, 'headers' | 'topic' | 'key'> | undefined): protobuf.Type {
    if (this.fixed) return this.fixed
    const name = record
      ? toText(
          (this.locator as LocatorReader)({
            record: record as KafkaRecord,
            key: record.key?.toString('utf8'),
            value: undefined,
            valueSchemaName: () => undefined,
            generation: 0,
            jsonCache: newJsonStageCache(),
          }),
        )
      : undefined
    const type = name === undefined ? undefined : this.schema.find(name)
    if (!type) {
      throw new DecodeError(
        name === undefined
          ? `no message type: ${this.spec} is not in the record`
          : `message type ${name} (from ${this.spec}) is not in ${this.schema.description}`,
        { code: 'PROTOBUF_UNKNOWN_TYPE' },
      )
    }
    return type
  }
}

export class ProtobufCodec implements Codec {
  readonly name = 'protobuf'
  private readonly choice: MessageTypeChoice

  constructor(
    schema: ProtoSchema,
    messageType: string,
    private readonly options: MappingOptions & { configPath?: string } = {},
  ) {
    this.choice = new MessageTypeChoice(schema, messageType, options.configPath ?? 'codec')
  }

  decode(bytes: Buffer | null, record?: KafkaRecord): unknown {
    if (bytes === null) return null
    return decodeMessage(this.choice.of(record), bytes, 0, this.options)
  }

  encode(value: unknown, context?: EncodeContext): Buffer | null {
    if (value === null || value === undefined) return null
    const headers = context?.headers ?? {}
    return encodeMessage(this.choice.of({ headers, topic: context?.topic ?? '', key: null }), value)
  }

  schemaOf(_bytes: Buffer, record?: KafkaRecord): WriterSchema | undefined {
    try {
      return { name: this.choice.of(record).fullName.slice(1) }
    } catch {
      return undefined
    }
  }
}

const CONFLUENT_HEADER = 5

export interface ConfluentProtobufOptions extends MappingOptions {
  client: RegistryClient
  /** Local protos + messageType: what commands are encoded with (registered under its subject). */
  local?: ProtoSchema
  messageType?: string
  schemaId?: number
  autoRegister?: boolean
  subjectNameStrategy?: 'topic' | 'record' | 'topic-record'
  configPath?: string
}

export class ConfluentProtobufCodec implements Codec {
  readonly name = 'protobuf-confluent'
  private readonly schemas = new Map<number, ProtoSchema>()
  private readonly failures = new Map<number, DecodeError>()
  private readonly subjectIds = new Map<string, number>()

  constructor(private readonly options: ConfluentProtobufOptions) {}

  decode(bytes: Buffer | null): unknown {
    if (bytes === null) return null
    const { id, schema } = this.schemaOfFrame(bytes)
    const { type, start } = readIndexes(schema, bytes, id)
    return decodeMessage(type, bytes, start, this.options)
  }

  encode(value: unknown, context?: EncodeContext): Buffer | null {
    if (value === null || value === undefined) return null
    const { local, schemaId } = this.options
    let id = schemaId
    let schema: ProtoSchema
    if (id !== undefined) schema = this.loaded(id)
    else if (local) {
      const type = this.localType(local)
      const subject = subjectName(this.options.subjectNameStrategy, context, type.fullName.slice(1))
      id = this.subjectIds.get(subject)
      if (id === undefined) {
        throw new MissingSchemaError({ kind: 'subject', subject }, async () => {
          const registered = await this.options.client.idFor(
            subject,
            { schema: readFileSync(local.mainFile, 'utf8'), schemaType: 'PROTOBUF' },
            this.options.autoRegister ?? true,
          )
          this.subjects(subject, registered)
        })
      }
      schema = local
    } else {
      throw new EncodeError('protobuf-confluent needs protos and messageType, or schemaId, to encode', {
        code: 'NO_WRITER_SCHEMA',
      })
    }
    const type = this.localType(schema)
    const indexes = schema.indexesOf(type)
    if (!indexes)
      throw new EncodeError(`${type.fullName.slice(1)} is not a message of the registered file`, {
        code: 'NO_WRITER_SCHEMA',
      })
    const header = Buffer.alloc(CONFLUENT_HEADER)
    header.writeUInt32BE(id, 1)
    return Buffer.concat([header, encodeIndexes(indexes), encodeMessage(type, value)])
  }

  async loadSchema(ref: { kind: string; id?: number }): Promise<void> {
    if (ref.kind !== 'id' || ref.id === undefined) return
    const id = ref.id
    const found = await this.options.client.schemaById(id)
    if (!found) {
      this.failures.set(
        id,
        new DecodeError(`unknown schema id ${id}`, {
          code: 'UNKNOWN_SCHEMA',
          suggestion: `${this.options.client.description} does not have it`,
        }),
      )
      return
    }
    if (found.schemaType !== 'PROTOBUF') {
      this.failures.set(
        id,
        new DecodeError(`schema id ${id} is a ${found.schemaType} schema, not PROTOBUF`, {
          code: 'UNSUPPORTED_SCHEMA_TYPE',
        }),
      )
      return
    }
    try {
      this.schemas.set(
        id,
        await ProtoSchema.fromRegistry(found, (subject, version) => this.options.client.version(subject, version)),
      )
    } catch (error) {
      if ((error as { exitCode?: number }).exitCode === 4) throw error
      this.failures.set(
        id,
        new DecodeError(`schema id ${id} is not a usable .proto: ${(error as Error).message}`, {
          code: 'INVALID_SCHEMA',
        }),
      )
    }
  }

  schemaOf(bytes: Buffer): WriterSchema | undefined {
    if (bytes.length < CONFLUENT_HEADER || bytes[0] !== 0) return undefined
    const id = bytes.readUInt32BE(1)
    const schema = this.schemas.get(id)
    let name: string | undefined
    if (schema) {
      try {
        name = readIndexes(schema, bytes, id).type.fullName.slice(1)
      } catch {}
    }
    return { ...(name === undefined ? {} : { name }), id }
  }

  private subjects(subject: string, id: number): void {
    this.subjectIds.set(subject, id)
  }

  private localType(schema: ProtoSchema): protobuf.Type {
    const name = this.options.messageType
    const type = name === undefined ? schema.atIndexes([0]) : schema.find(name)
    if (!type)
      throw new EncodeError(`message type ${name ?? '(first)'} is not in ${schema.description}`, {
        code: 'NO_WRITER_SCHEMA',
      })
    return type
  }

  private loaded(id: number): ProtoSchema {
    const schema = this.schemas.get(id)
    if (schema) return schema
    const failure = this.failures.get(id)
    if (failure) throw failure
    const ref = schemaIdRef(id)
    throw new MissingSchemaError(ref, () => this.loadSchema(ref))
  }

  private schemaOfFrame(bytes: Buffer): { id: number; schema: ProtoSchema } {
    if (bytes.length < CONFLUENT_HEADER || bytes[0] !== 0) {
      throw new DecodeError('not Confluent Protobuf framing (expected a 0x00 magic byte and a 4-byte schema id)', {
        code: 'NOT_CONFLUENT_FRAMING',
      })
    }
    const id = bytes.readUInt32BE(1)
    return { id, schema: this.loaded(id) }
  }
}

/** Reads the message indexes after the header: zig-zag (the spec), else unsigned (old Python). */
function readIndexes(schema: ProtoSchema, bytes: Buffer, id: number): { type: protobuf.Type; start: number } {
  for (const zigzag of [true, false]) {
    const read = readVarints(bytes, CONFLUENT_HEADER, zigzag)
    if (!read) continue
    const type = schema.atIndexes(read.indexes)
    if (type) return { type, start: read.end }
  }
  throw new DecodeError(`the message indexes after schema id ${id} name no message of it`, {
    code: 'PROTOBUF_BAD_INDEXES',
  })
}

function readVarints(bytes: Buffer, start: number, zigzag: boolean): { indexes: number[]; end: number } | undefined {
  let pos = start
  const next = (): number | undefined => {
    let value = 0
    let shift = 0
    for (;;) {
      if (pos >= bytes.length || shift > 28) return undefined
      const b = bytes[pos++]
      value |= (b & 0x7f) << shift
      if (b < 0x80) break
      shift += 7
    }
    value >>>= 0
    return zigzag ? (value >>> 1) ^ -(value & 1) : value
  }
  const count = next()
  if (count === undefined || count < 0 || count > 100) return undefined
  if (count === 0) return { indexes: [0], end: pos }
  const indexes: number[] = []
  for (let i = 0; i < count; i++) {
    const index = next()
    if (index === undefined || index < 0) return undefined
    indexes.push(index)
  }
  return { indexes, end: pos }
}

function encodeIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0])
  const bytes: number[] = []
  const write = (n: number) => {
    let z = ((n << 1) ^ (n >> 31)) >>> 0
    while (z >= 0x80) {
      bytes.push((z & 0x7f) | 0x80)
      z >>>= 7
    }
    bytes.push(z)
  }
  write(indexes.length)
  for (const index of indexes) write(index)
  return Buffer.from(bytes)
}
