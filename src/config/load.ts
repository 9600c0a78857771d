/**
 * Config file + environment + global flags → one ResolvedConfig.
 *
 * Lookup: `--config` / `ES_CONFIG`, else `./es.config.{json,yaml,yml,js,mjs}` if present, else
 * zero-config (brokers from `--brokers` / `ES_BROKERS`, default `127.0.0.1:9092`).
 * Any string in the file may use `${VAR}` to read an environment variable (secrets stay out of
 * files); a missing variable is a configuration error naming the field.
 *
 * Order: read the file → interpolate `${VAR}` → validate against es.config.schema.json (every
 * document, so nothing below re-checks shapes) → choose the profile → apply `ES_BROKERS`,
 * `--brokers` and `-X` (validated by the same schema, errors naming the flag) → resolve paths and
 * defaults.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, extname, isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml'
import { isTimeZone } from '../diff/compare.js'
import { durationForms, parseDuration } from '../duration.js'
import { ConfigError, nearMatches } from '../errors.js'
import { parseClientSettings } from './client-settings.js'
import { type ConfigPath, interpolate, Provenance } from './interpolate.js'
import { chooseProfile, deepMerge, profileConnection, profileServices } from './profiles.js'
import {
  type CodecDocument,
  type CodecSpec,
  type ConnectionDocument,
  defaultEnvelope,
  type KafkaConnection,
  type ProjectionSpec,
  type ResolvedConfig,
  type SchemaRegistryConfig,
  type ServiceConfig,
  type ServiceDocument,
  type StreamName,
  type TlsOptions,
} from './types.js'
import { type ConfigSite, validateConfigDocument } from './validate.js'
import { readConfigWarnings } from './warnings.js'

export interface LoadConfigInput {
  configPath?: string
  /** `--brokers` (ES_BROKERS is read from `env`). */
  brokers?: string
  /** `--profile` (ES_PROFILE is read from `env`). */
  profile?: string
  /** `-X key=value` client settings. */
  clientSettings?: string[]
  cwd: string
  env: NodeJS.ProcessEnv
}

const CONFIG_NAMES = ['es.config.json', 'es.config.yaml', 'es.config.yml', 'es.config.js', 'es.config.mjs']
export const DEFAULT_BROKERS = '127.0.0.1:9092'
const BUILTIN_REDUCERS = ['latest', 'merge', 'count', 'collect']

export async function loadConfig(input: LoadConfigInput): Promise<ResolvedConfig> {
  const file = input.configPath
    ? resolve(input.cwd, input.configPath)
    : CONFIG_NAMES.map((name) => resolve(input.cwd, name)).find((candidate) => existsSync(candidate))
  const source = file ? await readConfigFile(file) : undefined
  const config = resolveConfig(source?.document ?? {}, { ...input, file, locate: source?.locate })
  config.riskWarnings = await readConfigWarnings({ file, raw: source?.document ?? {}, config, cwd: input.cwd })
  return config
}

interface ConfigSource {
  document: unknown
  locate?: ConfigSite['locate']
}

async function readConfigFile(file: string): Promise<ConfigSource> {
  if (!existsSync(file)) {
    throw new ConfigError(`config file ${file} does not exist`, { code: 'CONFIG_NOT_FOUND', where: { file } })
  }
  const extension = extname(file)
  try {
    if (extension === '.js' || extension === '.mjs') {
      const module = (await import(pathToFileURL(file).href)) as { default?: unknown }
      return { document: module.default ?? module }
    }
    const text = await readFile(file, 'utf8')
    if (extension === '.json') return { document: JSON.parse(text), locate: (path, key) => locateIn(text, path, key) }
    const lines = new LineCounter()
    const parsed = parseDocument(text, { lineCounter: lines, prettyErrors: false })
    const [problem] = parsed.errors
    if (problem) {
      const line = lines.linePos(problem.pos[0]).line
      throw new ConfigError(`${file}${line ? `:${line}` : ''}: not valid YAML: ${problem.message.split('\n')[0]}`, {
        code: 'CONFIG_INVALID',
        where: { file, ...(line ? { line } : {}) },
        // The classic: `{ password: ${KAFKA_PASSWORD} }` opens a flow mapping inside a flow mapping.
        suggestion: /flow/i.test(problem.message)
          ? `inside { … }, quote values holding \${VAR} or ": " (password: "\${KAFKA_PASSWORD}")`
          : undefined,
      })
    }
    return { document: parsed.toJS() ?? {}, locate: (path, key) => lineOf(parsed.contents, lines, path, key) }
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`cannot read config ${file}: ${(error as Error).message.split('\n')[0]}`, {
      code: 'CONFIG_INVALID',
      where: { file },
    })
  }
}

/** The line of a path in JSON text (JSON is YAML: parsed again only when an error needs a line). */
function locateIn(text: string, path: ConfigPath, key: boolean): number | undefined {
  const lines = new LineCounter()
  const parsed = parseDocument(text, { lineCounter: lines })
  return parsed.errors.length === 0 ? lineOf(parsed.contents, lines, path, key) : undefined
}

/** The 1-based line of the node at `path` (of its key when `key`), or of its nearest parent. */
function lineOf(root: unknown, lines: LineCounter, path: ConfigPath, key: boolean): number | undefined {
  let node = root as Node | null | undefined
  let line = node?.range ? lines.linePos(node.range[0]).line : undefined
  for (const [i, part] of path.entries()) {
    let next: Node | null | undefined
    let keyNode: Node | undefined
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(part))
      keyNode = pair?.key as Node | undefined
      next = pair?.value as Node | null | undefined
    } else if (isSeq(node) && typeof part === 'number') {
      next = node.items[part] as Node | undefined
    }
    const last = i === path.length - 1
    const target = last && key && keyNode ? keyNode : (next ?? keyNode)
    if (!target?.range) return line
    line = lines.linePos(target.range[0]).line
    node = next
  }
  return line
}

export interface ResolveContext {
  file?: string
  locate?: ConfigSite['locate']
  brokers?: string
  profile?: string
  clientSettings?: string[]
  cwd?: string
  env: NodeJS.ProcessEnv
}

/** Pure: turns a parsed config document into a ResolvedConfig (exported for unit tests). */
export function resolveConfig(raw: unknown, context: ResolveContext): ResolvedConfig {
  const { file, env } = context
  const provenance = new Provenance()
  const site: ConfigSite = { file, locate: context.locate, provenance, cwd: context.cwd }
  const document = interpolate(raw, env, file, provenance)
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(`${file ?? 'the config'} must be a mapping of settings (brokers:, services:, …)`, {
      code: 'CONFIG_INVALID',
      where: { file },
    })
  }
  validateConfigDocument(document, site)
  const profile = chooseProfile(document, { flag: context.profile, env: env.ES_PROFILE }, site)
  const connection = withOverrides(profileConnection(document, profile, provenance), context, provenance)
  if (provenance.originBelow([])) validateConfigDocument(connection, site)

  const baseDir = file ? dirname(file) : (context.cwd ?? process.cwd())
  const fromFile = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p))
  const pem = (p: string) => (p.includes('-----BEGIN') ? p : fromFile(p))

  const kafka: KafkaConnection = {
    brokers: brokerList(connection.brokers ?? DEFAULT_BROKERS),
    clientId: connection.clientId ?? 'es',
    connectionTimeoutMs: durationMs(connection.connectionTimeout, 10_000),
    requestTimeoutMs: durationMs(connection.requestTimeout, 30_000),
  }
  if (connection.ssl !== undefined)
    kafka.ssl = typeof connection.ssl === 'boolean' ? connection.ssl : tls(connection.ssl, pem)
  if (connection.sasl !== undefined) {
    const { mechanism, username, password } = connection.sasl
    kafka.sasl = { mechanism: mechanism.toLowerCase() as 'plain', username, password }
  }

  const services: Record<string, ServiceConfig> = {}
  for (const [name, service] of Object.entries(profileServices(document, profile, site))) {
    services[name] = resolveService(name, service, fromFile)
  }

  const config: ResolvedConfig = {
    kafka,
    services,
    profiles: Object.entries(document.profiles ?? {}).map(([name, p]) => ({
      name,
      brokers: brokerList(p.brokers ?? document.brokers ?? DEFAULT_BROKERS),
      readOnly: p.readOnly === true,
      ...(p.description ? { description: p.description } : {}),
    })),
    warnings: connection.warnings !== false,
    provenance,
  }
  if (file) config.source = file
  if (profile) config.profile = profile
  if (connection.schemaRegistry !== undefined) config.schemaRegistry = registry(connection.schemaRegistry, pem)
  return config
}

function brokerList(brokers: string | string[]): string[] {
  return (Array.isArray(brokers) ? brokers : brokers.split(',')).map((b) => b.trim()).filter(Boolean)
}

/** `ES_BROKERS`, then `--brokers`, then each `-X` over the file's connection settings. */
function withOverrides(
  connection: ConnectionDocument,
  context: ResolveContext,
  provenance: Provenance,
): ConnectionDocument {
  let merged: Record<string, unknown> = { ...connection }
  const set = (path: ConfigPath, value: unknown) => {
    let patch: unknown = value
    for (const part of [...path].reverse()) patch = { [part]: patch }
    // A setting under ssl turns `ssl: true` into options; `security.protocol=SSL` keeps options.
    if (path[0] === 'ssl' && path.length > 1 && typeof merged.ssl !== 'object') merged.ssl = {}
    if (path[0] === 'ssl' && path.length === 1 && value === true && typeof merged.ssl === 'object') return
    merged = deepMerge(merged, patch) as Record<string, unknown>
  }
  if (context.env.ES_BROKERS !== undefined && context.env.ES_BROKERS !== '') {
    set(['brokers'], context.env.ES_BROKERS)
    provenance.recordOrigin(['brokers'], { kind: 'env', variable: 'ES_BROKERS' })
  }
  if (context.brokers !== undefined) {
    set(['brokers'], context.brokers)
    provenance.recordOrigin(['brokers'], { kind: 'flag', flag: '--brokers' })
  }
  for (const setting of parseClientSettings(context.clientSettings ?? [], context.cwd ?? process.cwd())) {
    set(setting.path, setting.value)
    provenance.recordOrigin(setting.path, { kind: 'flag', flag: setting.flag })
  }
  return merged as ConnectionDocument
}

function resolveService(name: string, raw: ServiceDocument, fromFile: (p: string) => string): ServiceConfig {
  const list = (value: string | string[]) => ([] as string[]).concat(value)
  const stream = (s: StreamName): string[] => {
    const value = raw.streams?.[s]
    return value === undefined ? [`${name}.${s}`] : list(value)
  }
  const projections: Record<string, ProjectionSpec> = {}
  for (const [projection, value] of Object.entries(raw.projections ?? {})) {
    const reducer = value.reducer ?? 'latest'
    const spec: ProjectionSpec = {
      name: projection,
      reducer: BUILTIN_REDUCERS.includes(reducer) ? reducer : fromFile(reducer),
      source: value.source === undefined ? stream('events') : list(value.source),
    }
    const readModel = value.readModel
    if (readModel !== undefined) {
      checkTimeZone(readModel.timeZone, `services.${name}.projections.${projection}.readModel.timeZone`)
      spec.readModel = readModel.type === 'sqlite' ? { ...readModel, file: fromFile(readModel.file) } : readModel
    }
    projections[projection] = spec
  }
  return {
    name,
    streams: { commands: stream('commands'), events: stream('events'), snapshots: stream('snapshots') },
    codec: {
      key: codecSpec(raw.codec?.key ?? 'string', fromFile),
      value: codecSpec(raw.codec?.value ?? 'json', fromFile),
    },
    envelope: { ...defaultEnvelope, ...raw.envelope },
    commands: raw.commands ?? {},
    rejections: raw.rejections ?? ['CommandRejected'],
    projections,
    partitioner: raw.partitioner ?? 'none',
    ...(raw.waitFor !== undefined ? { waitFor: raw.waitFor } : {}),
    ...(raw.timeZone !== undefined ? { timeZone: checkTimeZone(raw.timeZone, `services.${name}.timeZone`) } : {}),
  }
}

/** An IANA zone name (`UTC`, `Europe/Istanbul`), or a configuration error naming the path. */
function checkTimeZone(value: string | undefined, path: string): string | undefined {
  if (value === undefined || isTimeZone(value)) return value
  throw new ConfigError(`"${value}" is not a time zone at ${path}`, {
    code: 'CONFIG_INVALID',
    where: { path },
    suggestion: 'use an IANA zone name such as UTC, Europe/Istanbul or Asia/Tokyo',
  })
}

/** A validated codec document with its files resolved against the config file. */
function codecSpec(raw: CodecDocument, fromFile: (p: string) => string): CodecSpec {
  if (typeof raw === 'string') return { type: raw } as CodecSpec
  const spec: Record<string, unknown> = { ...raw }
  for (const field of ['schema', 'readerSchema'] as const) {
    if (typeof spec[field] === 'string') spec[field] = fromFile(spec[field] as string)
  }
  for (const field of ['schemas', 'protos'] as const) {
    if (spec[field] !== undefined) spec[field] = ([] as string[]).concat(spec[field] as string[]).map(fromFile)
  }
  return spec as CodecSpec
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

/** A config duration: text in the duration grammar (src/duration.ts), or a number of milliseconds. */
export function durationMs(value: unknown, fallback: number, where?: { file: string; path: string }): number {
  if (value === undefined) return fallback
  if (typeof value === 'number') return value
  const ms = parseDuration(String(value))
  if (ms === undefined) {
    throw new ConfigError(`"${value}" is not a duration`, {
      code: 'CONFIG_INVALID',
      where,
      suggestion: `a duration is ${durationForms}`,
    })
  }
  return ms
}

/** TLS options with CA/cert/key paths resolved against the config file (PEM text stays). */
function tls(options: TlsOptions, pem: (p: string) => string): TlsOptions {
  const resolved = { ...options }
  for (const field of ['ca', 'cert', 'key'] as const) {
    const value = resolved[field]
    if (value !== undefined) resolved[field] = pem(value)
  }
  return resolved
}

function registry(value: string | SchemaRegistryConfig, pem: (p: string) => string): SchemaRegistryConfig {
  if (typeof value === 'string') return { url: value }
  const resolved = { ...value }
  for (const field of ['ca', 'cert', 'key'] as const) {
    const file = resolved[field]
    if (file !== undefined) resolved[field] = pem(file)
  }
  return resolved
}
