/**
 * The one factory: a codec spec from the config → a ready codec. Async because Avro codecs read
 * their .avsc files first (a bad file is a ConfigError here, at start, not a decode error later).
 */
import type { CodecSpec, ResolvedConfig, ServiceConfig } from '../config/types.js'
import { ConfigError } from '../errors.js'
import { AutoCodec } from './auto-codec.js'
import { ConfluentAvroCodec, RawAvroCodec, SingleObjectCodec } from './avro-codecs.js'
import type { Codec } from './codec.js'
import { ConfluentRegistrySource, type RegistryConnection } from './confluent-registry-source.js'
import { compileSchemaFile, FileSchemaSource, readSchemaFile } from './file-schema-source.js'
import { JsonCodec } from './json-codec.js'
import type { SchemaSource } from './schema-source.js'
import { SchemaTopicSource } from './schema-topic-source.js'
import { BytesCodec, StringCodec } from './text-codecs.js'

export interface CodecOptions {
  /**
   * The source for a schema topic named by an `avro-single-object` spec. The caller keeps it and
   * feeds it the topic's records. Without this, the codec makes an empty one, reachable as
   * `codec.schemaTopic`.
   */
  schemaTopicSource?: (topic: string) => SchemaTopicSource
  /** For `avro-confluent`: a source (tests, a shared client) or the config's registry connection. */
  schemaRegistry?: SchemaSource | RegistryConnection
  /** The setting in error messages, e.g. `services.bank.codec.value`. */
  configPath?: string
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
      return new RawAvroCodec(compileSchemaFile(await readSchemaFile(spec.schema, path), spec.schema, path))
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
      const files = spec.schemas?.length
        ? await FileSchemaSource.open(spec.schemas, `${configPath}.schemas`)
        : undefined
      const topic = spec.schemaTopic
        ? (options.schemaTopicSource?.(spec.schemaTopic) ?? new SchemaTopicSource(spec.schemaTopic))
        : undefined
      return new SingleObjectCodec({ files, topic })
    }
    case 'avro-confluent': {
      const registry = options.schemaRegistry
      if (!registry) {
        throw new ConfigError(`codec avro-confluent at ${configPath} needs a schema registry`, {
          code: 'CONFIG_INVALID',
          where: { path: configPath },
          suggestion: 'set schemaRegistry: <url> (or {url, username, password}) at the top of the config',
        })
      }
      const source = 'get' in registry ? registry : new ConfluentRegistrySource(registry)
      return new ConfluentAvroCodec(source, spec.schemaId)
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
  config: Pick<ResolvedConfig, 'schemaRegistry'> = {},
  options: Omit<CodecOptions, 'configPath'> = {},
): Promise<ServiceCodecs> {
  const topics = new Map<string, SchemaTopicSource>()
  const shared: CodecOptions = {
    schemaRegistry:
      options.schemaRegistry ??
      (config.schemaRegistry ? new ConfluentRegistrySource(config.schemaRegistry) : undefined),
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
