/**
 * Config file + environment + global flags → one ResolvedConfig.
 *
 * Lookup: `--config` / `ES_CONFIG`, else `./es.config.{json,yaml,yml,js,mjs}` if present, else
 * zero-config (brokers from `--brokers` / `ES_BROKERS`, default `127.0.0.1:9092`).
 * Any string in the file may use `${VAR}` to read an environment variable (secrets stay out of
 * files); a missing variable is a configuration error naming the field.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, extname, isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { ConfigError, nearMatches } from '../errors.js'
import {
  type CodecSpec,
  type CommandSpec,
  defaultEnvelope,
  type EnvelopeSpec,
  type KafkaConnection,
  type ProjectionSpec,
  type ReadModelSpec,
  type ResolvedConfig,
  type SchemaRegistryConfig,
  type ServiceConfig,
  type StreamName,
} from './types.js'

export interface LoadConfigInput {
  configPath?: string
  brokers?: string
  cwd: string
  env: NodeJS.ProcessEnv
}

const CONFIG_NAMES = ['es.config.json', 'es.config.yaml', 'es.config.yml', 'es.config.js', 'es.config.mjs']
export const DEFAULT_BROKERS = '127.0.0.1:9092'

export async function loadConfig(input: LoadConfigInput): Promise<ResolvedConfig> {
  const file = input.configPath
    ? resolve(input.cwd, input.configPath)
    : CONFIG_NAMES.map((name) => resolve(input.cwd, name)).find((candidate) => existsSync(candidate))
  const raw = file ? await readConfigFile(file) : {}
  return resolveConfig(raw, { file, brokers: input.brokers, env: input.env })
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) {
    throw new ConfigError(`config file ${file} does not exist`, { code: 'CONFIG_NOT_FOUND', where: { file } })
  }
  const extension = extname(file)
  try {
    if (extension === '.js' || extension === '.mjs') {
      const module = (await import(pathToFileURL(file).href)) as { default?: unknown }
      return asObject(module.default ?? module, file, '')
    }
    const text = await readFile(file, 'utf8')
    return asObject(extension === '.json' ? JSON.parse(text) : parseYaml(text), file, '')
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`cannot read config ${file}: ${(error as Error).message.split('\n')[0]}`, {
      code: 'CONFIG_INVALID',
      where: { file },
    })
  }
}

interface ResolveContext {
  file?: string
  brokers?: string
  env: NodeJS.ProcessEnv
}

/** Pure: turns a parsed config document into a ResolvedConfig (exported for unit tests). */
export function resolveConfig(raw: Record<string, unknown>, context: ResolveContext): ResolvedConfig {
  const file = context.file
  const at = (path: string) => ({ file: file ?? '(no config file)', path })
  const doc = interpolate(raw, context.env, file, '') as Record<string, unknown>
  const baseDir = file ? dirname(file) : process.cwd()
  const fromFile = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p))

  const brokersValue = context.brokers ?? context.env.ES_BROKERS ?? doc.brokers ?? DEFAULT_BROKERS
  const brokers = (Array.isArray(brokersValue) ? brokersValue.map(String) : String(brokersValue).split(','))
    .map((b) => b.trim())
    .filter(Boolean)
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d+$/.test(broker)) {
      throw new ConfigError(`broker address "${broker}" is not host:port`, {
        code: 'CONFIG_INVALID',
        where: at('brokers'),
      })
    }
  }

  const kafka: KafkaConnection = {
    brokers,
    clientId: typeof doc.clientId === 'string' ? doc.clientId : 'es',
    connectionTimeoutMs: durationMs(doc.connectionTimeout, 10_000, at('connectionTimeout')),
    requestTimeoutMs: durationMs(doc.requestTimeout, 30_000, at('requestTimeout')),
  }
  if (doc.ssl !== undefined) kafka.ssl = sslSpec(doc.ssl, fromFile)
  if (doc.sasl !== undefined) {
    const sasl = asObject(doc.sasl, file, 'sasl')
    const mechanism = String(sasl.mechanism ?? '').toLowerCase()
    if (!['plain', 'scram-sha-256', 'scram-sha-512'].includes(mechanism)) {
      throw new ConfigError(`sasl.mechanism must be plain, scram-sha-256 or scram-sha-512 (got "${sasl.mechanism}")`, {
        code: 'CONFIG_INVALID',
        where: at('sasl.mechanism'),
      })
    }
    kafka.sasl = {
      mechanism: mechanism as 'plain',
      username: String(sasl.username ?? ''),
      password: String(sasl.password ?? ''),
    }
  }

  const services: Record<string, ServiceConfig> = {}
  const rawServices = doc.services === undefined ? {} : asObject(doc.services, file, 'services')
  for (const [name, value] of Object.entries(rawServices)) {
    services[name] = resolveService(name, asObject(value, file, `services.${name}`), fromFile, (p) =>
      at(`services.${name}.${p}`),
    )
  }

  const config: ResolvedConfig = { kafka, services }
  if (file) config.source = file
  if (doc.schemaRegistry !== undefined) {
    const registry = doc.schemaRegistry
    config.schemaRegistry =
      typeof registry === 'string'
        ? { url: registry }
        : (sslSpec(asObject(registry, file, 'schemaRegistry'), fromFile) as unknown as SchemaRegistryConfig)
  }
  return config
}

function resolveService(
  name: string,
  raw: Record<string, unknown>,
  fromFile: (p: string) => string,
  at: (path: string) => { file: string; path: string },
): ServiceConfig {
  const rawStreams = (raw.streams ?? {}) as Record<string, unknown>
  const stream = (s: StreamName): string[] => {
    const value = rawStreams[s]
    if (value === undefined) return [`${name}.${s}`]
    return Array.isArray(value) ? value.map(String) : [String(value)]
  }
  const rawCodec = (raw.codec ?? {}) as Record<string, unknown>
  const codec = {
    key: codecSpec(rawCodec.key ?? 'string', fromFile, at('codec.key')),
    value: codecSpec(rawCodec.value ?? 'json', fromFile, at('codec.value')),
  }
  const envelope: EnvelopeSpec = { ...defaultEnvelope, ...((raw.envelope ?? {}) as Partial<EnvelopeSpec>) }
  const commands: Record<string, CommandSpec> = {}
  for (const [type, spec] of Object.entries((raw.commands ?? {}) as Record<string, unknown>)) {
    commands[type] = (spec ?? {}) as CommandSpec
  }
  const projections: Record<string, ProjectionSpec> = {}
  for (const [projection, value] of Object.entries(
    (raw.projections ?? {}) as Record<string, Record<string, unknown>>,
  )) {
    const reducer = String(value.reducer ?? 'latest')
    const builtin = ['latest', 'merge', 'count', 'collect'].includes(reducer)
    const source = value.source === undefined ? stream('events') : ([] as unknown[]).concat(value.source).map(String)
    const spec: ProjectionSpec = { name: projection, reducer: builtin ? reducer : fromFile(reducer), source }
    if (value.readModel !== undefined)
      spec.readModel = readModelSpec(value.readModel, fromFile, at(`projections.${projection}.readModel`))
    projections[projection] = spec
  }
  return {
    name,
    streams: { commands: stream('commands'), events: stream('events'), snapshots: stream('snapshots') },
    codec,
    envelope,
    commands,
    rejections: ((raw.rejections ?? ['CommandRejected']) as unknown[]).map(String),
    projections,
  }
}

const CODEC_TYPES = [
  'auto',
  'string',
  'bytes',
  'json',
  'avro',
  'avro-confluent',
  'avro-single-object',
  'protobuf',
  'protobuf-confluent',
  'json-confluent',
]

/** A codec document with its files resolved against the config file. */
function codecSpec(raw: unknown, fromFile: (p: string) => string, where: { file: string; path: string }): CodecSpec {
  const spec = { ...((typeof raw === 'string' ? { type: raw } : raw) as Record<string, unknown>) }
  const type = String(spec?.type)
  if (!CODEC_TYPES.includes(type)) {
    const near = nearMatches(type, CODEC_TYPES)
    throw new ConfigError(`unknown codec "${type}" at ${where.path}`, {
      code: 'CONFIG_INVALID',
      where,
      suggestion: `use one of ${CODEC_TYPES.join(', ')}${near.length ? `; did you mean ${near[0]}?` : ''}`,
    })
  }
  if (type === 'avro' && typeof spec.schema !== 'string') {
    throw new ConfigError(`codec avro needs "schema": a path to an .avsc file at ${where.path}`, {
      code: 'CONFIG_INVALID',
      where,
    })
  }
  if (spec.schemaId !== undefined && (!Number.isInteger(spec.schemaId) || (spec.schemaId as number) < 0)) {
    throw new ConfigError(`"schemaId" must be a registry schema id (a non-negative integer) at ${where.path}`, {
      code: 'CONFIG_INVALID',
      where,
    })
  }
  for (const field of ['schema', 'readerSchema'] as const) {
    if (typeof spec[field] === 'string') spec[field] = fromFile(spec[field] as string)
  }
  for (const field of ['schemas', 'protos'] as const) {
    if (spec[field] !== undefined) spec[field] = ([] as unknown[]).concat(spec[field]).map((s) => fromFile(String(s)))
  }
  return spec as CodecSpec
}

function requireText(spec: Record<string, unknown>, fields: string[], where: { file: string; path: string }): void {
  for (const field of fields) {
    if (typeof spec[field] !== 'string' || spec[field] === '') {
      throw new ConfigError(`a ${spec.type} read model needs ${field} at ${where.path}.${field}`, {
        code: 'CONFIG_INVALID',
        where: { file: where.file, path: `${where.path}.${field}` },
      })
    }
  }
}

function readModelSpec(
  raw: unknown,
  fromFile: (p: string) => string,
  where: { file: string; path: string },
): ReadModelSpec {
  const spec = raw as Record<string, unknown>
  switch (spec?.type) {
    case 'sqlite':
      requireText(spec, ['file', 'table'], where)
      return {
        ...(spec as object),
        type: 'sqlite',
        file: fromFile(String(spec.file)),
        table: String(spec.table),
      } as ReadModelSpec
    case 'postgres':
      requireText(spec, ['url', 'table'], where)
      return spec as unknown as ReadModelSpec
    case 'http':
      requireText(spec, ['url'], where)
      return spec as unknown as ReadModelSpec
    case 'topic':
      requireText(spec, ['topic'], where)
      return spec as unknown as ReadModelSpec
    default:
      throw new ConfigError(`unknown read model type "${spec?.type}" at ${where.path}`, {
        code: 'CONFIG_INVALID',
        where,
        suggestion: 'use one of sqlite, postgres, http, topic',
      })
  }
}

/** Picks the service: `--service`, or the only one defined; undefined in zero-config use. */
export function selectService(config: ResolvedConfig, name?: string): ServiceConfig | undefined {
  const names = Object.keys(config.services)
  if (name !== undefined) {
    const service = config.services[name]
    if (service) return service
    const near = nearMatches(name, names)
    throw new ConfigError(`unknown service "${name}"${config.source ? ` in ${config.source}` : ''}`, {
      code: 'UNKNOWN_SERVICE',
      suggestion: names.length
        ? `known services: ${names.join(', ')}${near.length ? `; did you mean ${near[0]}?` : ''}`
        : 'no services are configured; create es.config.yaml (see README)',
    })
  }
  if (names.length === 0) return undefined
  if (names.length === 1) return config.services[names[0]]
  throw new ConfigError(`the config defines several services (${names.join(', ')}); choose one with --service`, {
    code: 'AMBIGUOUS_SERVICE',
  })
}

function interpolate(value: unknown, env: NodeJS.ProcessEnv, file: string | undefined, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
      const found = env[variable]
      if (found === undefined) {
        throw new ConfigError(`environment variable ${variable} is not set (used at ${path || '(root)'})`, {
          code: 'CONFIG_ENV_MISSING',
          where: { file, path },
        })
      }
      return found
    })
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, file, `${path}[${i}]`))
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, file, path ? `${path}.${k}` : k)]),
    )
  }
  return value
}

function asObject(value: unknown, file: string | undefined, path: string): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  throw new ConfigError(`${path || 'the config'} must be an object${file ? ` in ${file}` : ''}`, {
    code: 'CONFIG_INVALID',
    where: { file, path },
  })
}

/** `10s`, `500ms`, `2m` or a number of milliseconds. */
export function durationMs(value: unknown, fallback: number, where?: { file: string; path: string }): number {
  if (value === undefined) return fallback
  if (typeof value === 'number') return value
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(String(value).trim())
  if (!match) {
    throw new ConfigError(`"${value}" is not a duration (e.g. 500ms, 10s, 2m)`, { code: 'CONFIG_INVALID', where })
  }
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms']
  return Math.round(Number(match[1]) * factor)
}

/** `ssl`: `true`, or CA/cert/key as PEM text or as a path, relative to the config file. */
function sslSpec(raw: unknown, fromFile: (p: string) => string): KafkaConnection['ssl'] {
  if (typeof raw === 'boolean' || raw === null || typeof raw !== 'object') return raw as KafkaConnection['ssl']
  const spec = { ...(raw as Record<string, unknown>) }
  for (const field of ['ca', 'cert', 'key']) {
    const value = spec[field]
    if (typeof value === 'string' && !value.includes('-----BEGIN')) spec[field] = fromFile(value)
  }
  return spec as KafkaConnection['ssl']
}
