/**
 * The one factory: a codec spec from the config → a ready codec. Async because Avro codecs read
 * their .avsc files first (a bad file is a ConfigError here, at start, not a decode error later).
 */
import { dirname } from 'node:path'
import type { CodecSpec, ResolvedConfig, ServiceConfig } from '../config/types.js'
import { ConfigError } from '../errors.js'
import { AutoCodec } from './auto-codec.js'
import type { AvroSchema } from './avro/avro-schema.js'
import type { Codec } from './codec.js'
import { ConfluentRegistrySource } from './confluent-registry-source.js'
import { JsonCodec } from './json-codec.js'
import { ConfluentJsonCodec } from './json-confluent-codec.js'
import { RegistryClient, type RegistryConnection } from './registry-client.js'
import type { SchemaSource } from './schema-source.js'
import { SchemaTopicSource } from './schema-topic-source.js'
import { BytesCodec, StringCodec } from './text-codecs.js'

/**
 * The Avro and Protobuf codecs and the .avsc reader load avsc and protobufjs (≈700 KB bundled, a
 * tenth of `es tail`'s start-up): imported when a spec names one, so a JSON topic never pays.
 */
const avroCodecs = () => import('./avro-codecs.js')
const avroFiles = () => import('./file-schema-source.js')
const protobufCodecs = () => import('./protobuf/protobuf-codecs.js')

export interface CodecOptions {
  /**
   * The source for a schema topic named by an `avro-single-object` spec. The caller keeps it and
   * feeds it the topic's records. Without this, the codec makes an empty one, reachable as
   * `codec.schemaTopic`.
   */
  schemaTopicSource?: (topic: string) => SchemaTopicSource
  /**
   * For the Confluent codecs: a schema source (tests), a shared client, or the config's registry
   * connection.
   */
  schemaRegistry?: SchemaSource | RegistryClient | RegistryConnection
  /** The setting in error messages, e.g. `services.bank.codec.value`. */
  configPath?: string
  /** Where relative .proto imports are looked for besides the importing file (the config's folder). */
  baseDir?: string
}

async function readerSchemaOf(spec: { readerSchema?: string }, configPath: string): Promise<AvroSchema | undefined> {
  if (!spec.readerSchema) return undefined
  const path = `${configPath}.readerSchema`
  const { compileSchemaFile, readSchemaFile } = await avroFiles()
  return compileSchemaFile(await readSchemaFile(spec.readerSchema, path), spec.readerSchema, path)
}

function registryOf(options: CodecOptions, type: string, configPath: string): RegistryClient {
  const registry = options.schemaRegistry
  if (!registry) {
    throw new ConfigError(`codec ${type} at ${configPath} needs a schema registry`, {
      code: 'CONFIG_INVALID',
      where: { path: configPath },
      suggestion:
        'set schemaRegistry: <url> (or {url, username, password}) at the top of the config, or --registry <url>',
    })
  }
  if (registry instanceof RegistryClient) return registry
  if (registry instanceof ConfluentRegistrySource) return registry.client
  if ('url' in registry) return new RegistryClient(registry)
  throw new ConfigError(`codec ${type} at ${configPath} needs a registry client`, { code: 'CONFIG_INVALID' })
}

export async function createCodec(spec: CodecSpec, options: CodecOptions = {}): Promise<Codec> {
  const configPath = options.configPath ?? 'codec'
  switch (spec.type) {
    case 'auto':
      return new AutoCodec()
    case 'string':
      return new StringCodec()
    case 'bytes':
      return new BytesCodec()
    case 'json':
      return new JsonCodec()
    case 'avro': {
      const path = `${configPath}.schema`
      const [{ RawAvroCodec }, { compileSchemaFile, readSchemaFile }] = await Promise.all([avroCodecs(), avroFiles()])
      const writer = compileSchemaFile(await readSchemaFile(spec.schema, path), spec.schema, path)
      const reader = await readerSchemaOf(spec, configPath)
      try {
        return new RawAvroCodec(writer, reader)
      } catch (error) {
        throw new ConfigError(`${(error as Error).message} (${configPath})`, {
          code: 'AVRO_INCOMPATIBLE_SCHEMAS',
          where: { path: `${configPath}.readerSchema` },
        })
      }
    }
    case 'avro-single-object': {
      if (!spec.schemas?.length && !spec.schemaTopic) {
        throw new ConfigError(
          `codec avro-single-object needs "schemas" (.avsc files) or "schemaTopic" at ${configPath}`,
          {
            code: 'CONFIG_INVALID',
            where: { path: configPath },
          },
        )
      }
      const [{ SingleObjectCodec }, { FileSchemaSource }] = await Promise.all([avroCodecs(), avroFiles()])
      const files = spec.schemas?.length
        ? await FileSchemaSource.open(spec.schemas, `${configPath}.schemas`)
        : undefined
      const topic = spec.schemaTopic
        ? (options.schemaTopicSource?.(spec.schemaTopic) ?? new SchemaTopicSource(spec.schemaTopic))
        : undefined
      return new SingleObjectCodec({ files, topic, reader: await readerSchemaOf(spec, configPath) })
    }
    case 'avro-confluent': {
      const registry = options.schemaRegistry
      if (!registry) registryOf(options, spec.type, configPath)
      const source =
        registry && 'get' in registry && !(registry instanceof ConfluentRegistrySource)
          ? registry
          : new ConfluentRegistrySource(registryOf(options, spec.type, configPath))
      const client = source instanceof ConfluentRegistrySource ? source.client : undefined
      const [{ ConfluentAvroCodec }, { compileSchemaFile, readSchemaFile }] = await Promise.all([
        avroCodecs(),
        avroFiles(),
      ])
      const writer = spec.schema
        ? compileSchemaFile(
            await readSchemaFile(spec.schema, `${configPath}.schema`),
            spec.schema,
            `${configPath}.schema`,
          )
        : undefined
      return new ConfluentAvroCodec(source, {
        schemaId: spec.schemaId,
        reader: await readerSchemaOf(spec, configPath),
        writer,
        client,
        autoRegister: spec.autoRegister,
        subjectNameStrategy: spec.subjectNameStrategy,
      })
    }
    case 'protobuf': {
      const { ProtobufCodec, ProtoSchema } = await protobufCodecs()
      const schema = ProtoSchema.fromFiles(spec.protos, options.baseDir ?? process.cwd(), `${configPath}.protos`)
      return new ProtobufCodec(schema, spec.messageType, { fieldNames: spec.fieldNames, configPath })
    }
    case 'protobuf-confluent': {
      const { ConfluentProtobufCodec, ProtoSchema } = await protobufCodecs()
      const local = spec.protos?.length
        ? ProtoSchema.fromFiles(spec.protos, options.baseDir ?? process.cwd(), `${configPath}.protos`)
        : undefined
      return new ConfluentProtobufCodec({
        client: registryOf(options, spec.type, configPath),
        local,
        messageType: spec.messageType,
        schemaId: spec.schemaId,
        autoRegister: spec.autoRegister,
        subjectNameStrategy: spec.subjectNameStrategy,
        fieldNames: spec.fieldNames,
        configPath,
      })
    }
    case 'json-confluent': {
      const wantsRegistry = spec.schemaId !== undefined || spec.schema !== undefined
      return new ConfluentJsonCodec({
        client: wantsRegistry || options.schemaRegistry ? registryOf(options, spec.type, configPath) : undefined,
        schema: spec.schema,
        schemaId: spec.schemaId,
        autoRegister: spec.autoRegister,
        subjectNameStrategy: spec.subjectNameStrategy,
      })
    }
    default: {
      const unknown = spec as { type: string }
      throw new ConfigError(`unknown codec "${unknown.type}" at ${configPath}`, {
        code: 'CONFIG_INVALID',
        where: { path: configPath },
      })
    }
  }
}

export interface ServiceCodecs {
  key: Codec
  value: Codec
}

/**
 * The key and value codecs of a service, sharing one registry client and one source per schema
 * topic (given by `options`, else made here).
 */
export async function createServiceCodecs(
  service: Pick<ServiceConfig, 'name' | 'codec'>,
  config: Pick<ResolvedConfig, 'schemaRegistry' | 'source'> = {},
  options: Omit<CodecOptions, 'configPath'> = {},
): Promise<ServiceCodecs> {
  const topics = new Map<string, SchemaTopicSource>()
  const shared: CodecOptions = {
    baseDir: options.baseDir ?? (config.source ? dirname(config.source) : undefined),
    schemaRegistry:
      options.schemaRegistry ?? (config.schemaRegistry ? new RegistryClient(config.schemaRegistry) : undefined),
    schemaTopicSource:
      options.schemaTopicSource ??
      ((topic) => {
        let source = topics.get(topic)
        if (!source) {
          source = new SchemaTopicSource(topic)
          topics.set(topic, source)
        }
        return source
      }),
  }
  const base = `services.${service.name}.codec`
  return {
    key: await createCodec(service.codec.key, { ...shared, configPath: `${base}.key` }),
    value: await createCodec(service.codec.value, { ...shared, configPath: `${base}.value` }),
  }
}
