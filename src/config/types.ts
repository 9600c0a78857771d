/**
 * The resolved configuration every command works from. `loadConfig` (src/config/load.ts) turns a
 * config file (or none), environment variables and global flags into one `ResolvedConfig`; nothing
 * else reads config files or `ES_*` variables.
 *
 * `ConfigDocument` and the types below it are the config file as written (after `${VAR}`
 * interpolation): es.config.schema.json is their contract and validates every document before it
 * is resolved, so a key added to the schema is added here too.
 */
import type { Provenance } from './interpolate.js'
import type { ConfigWarning } from './warnings.js'

export interface ResolvedConfig {
  /** Where the config came from (absolute path), or undefined in zero-config use. */
  source?: string
  kafka: KafkaConnection
  schemaRegistry?: SchemaRegistryConfig
  services: Record<string, ServiceConfig>
  /** The profile in use, if the config defines profiles and one was chosen. */
  profile?: ProfileInUse
  /** The profiles the config defines (in file order). */
  profiles: ProfileSummary[]
  /** false: warnings about risky configuration are silenced (config `warnings: false`). */
  warnings: boolean
  /** Where values came from (`${VAR}`, flags), so that messages name a variable, never its value. */
  provenance: Provenance
  /** Risky settings to warn about on stderr (src/config/warnings.ts), those `warnings: false` silences left out. */
  riskWarnings?: ConfigWarning[]
}

export interface ProfileInUse {
  name: string
  /** Why this one: `--profile`, `ES_PROFILE`, or the config's `defaultProfile`. */
  chosenBy: 'flag' | 'env' | 'default'
  /** It is the config's defaultProfile (however it was chosen). */
  isDefault: boolean
  readOnly: boolean
  description?: string
}

export interface ProfileSummary {
  name: string
  /** Its brokers as configured (the profile's, else the top-level ones). */
  brokers: string[]
  readOnly: boolean
  description?: string
}

export interface SchemaRegistryConfig {
  url: string
  username?: string
  password?: string
  /** A bearer token (instead of username and password). */
  token?: string
  /** TLS: PEM text or a path to a PEM file (resolved against the config file). */
  ca?: string
  cert?: string
  key?: string
  rejectUnauthorized?: boolean
}

export interface KafkaConnection {
  brokers: string[]
  clientId: string
  /** Connection timeout; an unreachable broker fails within it with exit 4. Default 10 s. */
  connectionTimeoutMs: number
  requestTimeoutMs: number
  ssl?: boolean | TlsOptions
  /** Secrets are resolved from environment variables at load time and redacted in `--verbose`. */
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
}

export interface TlsOptions {
  /** PEM text, or a path to a PEM file (resolved against the config file). */
  ca?: string
  cert?: string
  key?: string
  passphrase?: string
  /** false: no verification at all (CA and host name). */
  rejectUnauthorized?: boolean
  /** The host name the broker's certificate must name, when it differs from the address. */
  servername?: string
  /** false: skip the host-name check only; the chain is still verified. */
  checkHostname?: boolean
}

export type Partitioner = 'murmur2' | 'crc32' | 'consistent_random' | 'none'

export interface ServiceConfig {
  name: string
  streams: Record<StreamName, string[]>
  /** How keys and values are turned into bytes and back. */
  codec: { key: CodecSpec; value: CodecSpec }
  envelope: EnvelopeSpec
  /** Command types the service accepts, by type name. */
  commands: Record<string, CommandSpec>
  /** Event types that mean "the command was rejected" (send-command --wait exits 1 on these). */
  rejections: string[]
  projections: Record<string, ProjectionSpec>
  /**
   * How `send-command --wait` finds a command's outcome: `causation` (default) — the events whose
   * causation or correlation id is the command id; `aggregate` — for services whose events carry
   * no command id (seed 003), the first event of the command's aggregate after the ends fixed
   * before sending (another writer's event of that aggregate could be taken for it).
   */
  waitFor?: 'causation' | 'aggregate'
  /**
   * IANA zone in which the service's read models write times without a zone (SQLite text,
   * PostgreSQL `timestamp`): `es diff` reads them in it. Default UTC; a read model's own
   * `timeZone` wins.
   */
  timeZone?: string
  /** How the service's producer maps keys to partitions (`none`: unknown, read every partition). */
  partitioner: Partitioner
}

export type StreamName = 'commands' | 'events' | 'snapshots'

export type CodecSpec =
  /** Zero-config default: JSON when it parses, else UTF-8 text, else bytes. Never fails. */
  | { type: 'auto' }
  | { type: 'string' }
  | { type: 'bytes' }
  | { type: 'json' }
  /** Raw Avro binary datum, schema from a local .avsc (path resolved against the config file). */
  | { type: 'avro'; schema: string; readerSchema?: string }
  /**
   * Confluent framing: 0x00, 4-byte schema id, datum; schemas from the registry. `schemaId`: the
   * registered schema commands are encoded with (decoding needs none).
   */
  | ({ type: 'avro-confluent'; readerSchema?: string; schema?: string } & RegistryEncoding)
  /** Avro single-object encoding: C3 01, 8-byte CRC-64-AVRO fingerprint (LE), datum. */
  | { type: 'avro-single-object'; schemas?: string[]; schemaTopic?: string; readerSchema?: string }
  /**
   * Protocol Buffers with local .proto files (paths resolved against the config file). The message
   * type: a full name, or a locator (`header:ce_type | simple-name`) when one topic has several.
   */
  | ({ type: 'protobuf'; protos: string[]; messageType: string } & ProtobufOptions)
  /** Confluent-framed Protocol Buffers: schema id, message indexes, message. */
  | ({ type: 'protobuf-confluent'; protos?: string[]; messageType?: string } & RegistryEncoding & ProtobufOptions)
  /** Confluent-framed JSON: schema id, JSON text. `schema`: a JSON Schema file to register. */
  | ({ type: 'json-confluent'; schema?: string } & RegistryEncoding)

/** How a Confluent-framed codec encodes (commands): which registered schema, under which subject. */
export interface RegistryEncoding {
  /** The registered schema id commands are encoded with (decoding reads it from each record). */
  schemaId?: number
  /** Register the schema when encoding if the registry does not know it. */
  autoRegister?: boolean
  subjectNameStrategy?: 'topic' | 'record' | 'topic-record'
}

export interface ProtobufOptions {
  /** JSON field names: as in the .proto (default) or lowerCamelCase (proto3 JSON's json_name). */
  fieldNames?: 'proto' | 'lowerCamelCase'
}

/**
 * Where each part of a message lives. A locator is a small pipeline, stages separated by `|`
 * (grammar and evaluation: src/envelope/locator.ts):
 *   `$.data.value_id`            a JSON path into the decoded value (`$` is the whole value;
 *                                `$.a[0]`, `$['odd key']` work; no wildcards)
 *   `key`                        the record key (decoded with the key codec)
 *   `header:__TypeId__`          a header, as UTF-8 text
 *   `topic` / `partition` / `offset` / `timestamp`   the record's own metadata (timestamp in ms)
 *   `schema`                     the full name of the Avro schema the value was written with
 *   `none`                       not present in this system's messages
 *   `$.details | json`           a JSON document inside a string field, parsed
 *   `$.details | json | $.x`     …and a path into it
 *   `header:__TypeId__ | simple-name`  `com.acme.FundsDeposited` → `FundsDeposited` (also `Outer$Inner` → `Inner`)
 *   `… | string`, `… | number`   convert
 * Undefined locators fall back to the defaults in `defaultEnvelope`. When a command is encoded,
 * each field is written where its locator points (see src/envelope/command-encoder.ts).
 */
export interface EnvelopeSpec {
  type: string
  id: string
  causationId: string
  correlationId?: string
  aggregateId: string
  version: string
  timestamp: string
  payload: string
  /** Where a command carries its expected version, when not at `version` (seed 003: `originalVersion`). */
  expectedVersion?: string
  /** Where a command carries its time, when not at `timestamp`; `none` when commands carry none. */
  commandTimestamp?: string
  /**
   * Where a command's record key comes from when none is given, as a locator into the encoded
   * command (`$.id`: keyed by the command id, seed 002). Default: the aggregate id when
   * `aggregateId` is `key`, else no key.
   */
  commandKey?: string
  /**
   * Full type names for a `| simple-name` type locator, used when encoding: simple name → full
   * name (seed 004: `AccountOpenedEvent` → `com.asimkilic.account.common.events.AccountOpenedEvent`).
   */
  typeNames?: Record<string, string>
  /**
   * Extra fields written when encoding a command, e.g. `{"type": "command"}` for seed 003. Keys are
   * value fields, or locators (`$.meta.source`, `header:origin`).
   */
  commandDefaults?: Record<string, unknown>
  /**
   * Further places a command's envelope fields are written to, locator → field: systems whose
   * handlers read the aggregate id or the command type in more than one place (seed 003 writes
   * the order id as the key, in `aggregate_id` and inside `json_data`).
   */
  commandFields?: Record<string, CommandField>
  /**
   * JSON paths of this service's locators match names ignoring case (`$.type` reads `TYPE`): for
   * serdes that upper-case names, such as ksqlDB's, beside producers that do not. Default false.
   */
  ignoreCase?: boolean
}

/** The envelope fields of a command that `commandFields` can write again elsewhere. */
export const COMMAND_FIELDS = ['type', 'id', 'aggregateId', 'expectedVersion', 'causationId', 'correlationId'] as const
export type CommandField = (typeof COMMAND_FIELDS)[number]

export interface CommandSpec {
  /** A JSON Schema for the command's payload. */
  schema?: Record<string, unknown>
  /** Where the record key comes from when `--key` is absent: a locator into the payload. */
  key?: string
  /**
   * The expected version when `--expected-version` is absent: a number (0 for a command that
   * creates its aggregate, seed 003's PlaceOrderCommand), or `required` (refused without it).
   */
  expectedVersion?: number | 'required'
}

export interface ProjectionSpec {
  name: string
  /** A built-in reducer name (`latest`, `merge`, `count`, `collect`) or a module path. */
  reducer: string
  /** Streams or topics to fold; default the service's events stream. */
  source: string[]
  readModel?: ReadModelSpec
}

/** `timeZone`: where times without a zone are read (see ServiceConfig.timeZone). */
export type ReadModelSpec =
  | {
      type: 'sqlite'
      file: string
      table: string
      key?: string
      columns?: Record<string, string>
      offsets?: OffsetsTableSpec
      timeZone?: string
    }
  | {
      type: 'postgres'
      url: string
      table: string
      key?: string
      columns?: Record<string, string>
      offsets?: OffsetsTableSpec
      timeZone?: string
    }
  | { type: 'http'; url: string; listUrl?: string; key?: string; absentStatuses?: number[]; timeZone?: string }
  | { type: 'topic'; topic: string; timeZone?: string }

/** Where a projector keeps its offsets in its read model, next to its rows. */
export interface OffsetsTableSpec {
  table: string
  /** Column names; defaults `topic`, `partition`, `next_offset` (the next offset to read). */
  topic?: string
  partition?: string
  offset?: string
  /** Only rows with these column values (one table for several projections). */
  where?: Record<string, string | number>
  /** The projector's consumer group, compared as well. */
  group?: string
}

export const defaultEnvelope: EnvelopeSpec = {
  type: '$.type',
  id: '$.id',
  causationId: '$.causationId',
  aggregateId: 'key',
  version: '$.version',
  timestamp: '$.timestamp',
  payload: '$',
}

/** The config file as written (after interpolation), as es.config.schema.json describes it. */
export interface ConfigDocument extends ConnectionDocument {
  $schema?: string
  defaultProfile?: string
  profiles?: Record<string, ProfileDocument>
  services?: Record<string, ServiceDocument>
}

/** What a profile may set: the connection, and overrides of services. */
export interface ProfileDocument extends ConnectionDocument {
  description?: string
  readOnly?: boolean
  services?: Record<string, ServiceDocument>
}

export interface ConnectionDocument {
  brokers?: string | string[]
  clientId?: string
  connectionTimeout?: string | number
  requestTimeout?: string | number
  ssl?: boolean | TlsOptions
  sasl?: { mechanism: string; username: string; password: string }
  schemaRegistry?: string | SchemaRegistryConfig
  warnings?: boolean
}

export interface ServiceDocument {
  streams?: Partial<Record<StreamName, string | string[]>>
  codec?: { key?: CodecDocument; value?: CodecDocument }
  envelope?: Partial<EnvelopeSpec>
  partitioner?: Partitioner
  rejections?: string[]
  commands?: Record<string, CommandSpec>
  projections?: Record<string, ProjectionDocument>
  waitFor?: 'causation' | 'aggregate'
  timeZone?: string
}

/** A codec name, or `{type, …options}`; file options may be one path or a list. */
export type CodecDocument = CodecSpec['type'] | (Record<string, unknown> & { type: CodecSpec['type'] })

export interface ProjectionDocument {
  reducer?: string
  source?: string | string[]
  readModel?: ReadModelSpec
}
