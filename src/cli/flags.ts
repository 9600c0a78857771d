/**
 * Flag definitions shared by several commands, each defined once and parsed once into a value
 * (an offset spec, a predicate, a duration), never re-parsed inside commands.
 */
import { resolve } from 'node:path'
import { Flags } from '@oclif/core'
import { selectService } from '../config/load.js'
import type { CodecSpec, ResolvedConfig } from '../config/types.js'
import { durationForms, parseDuration } from '../duration.js'
import { UsageError } from '../errors.js'
import {
  type EndSpec,
  endSpecForms,
  parseEndSpec,
  parseStartSpec,
  type StartSpec,
  startSpecForms,
} from '../kafka/offset-spec.js'
import { PARTITIONERS } from '../kafka/partitioner.js'
import { RECORD_FORMATS, type RecordFormat } from '../render/records.js'
import { zeroConfigService } from '../service/resolve.js'
import { type CacheBound, parseCacheBound } from '../stores/state-cache.js'
import { type Predicate, parsePredicate } from '../tail/filter.js'

export const portFlag = Flags.integer({
  summary: 'Port of the local broker.',
  default: 9092,
  min: 1,
  max: 65535,
})

export const fromFlag = Flags.custom<StartSpec>({
  summary: 'Where to start: beginning, end, <offset>, -<n>, <ISO time>, <duration ago> (15m, 2h).',
  description: `Accepted: ${startSpecForms}.`,
  parse: async (input: string) => parseStartSpec(input, { flag: '--from' }),
})

export const untilFlag = Flags.custom<EndSpec>({
  summary: 'Where to stop (exclusive), fixed at start: end, <offset>, <ISO time>, <duration ago>.',
  description: `Accepted: ${endSpecForms}.`,
  parse: async (input: string) => parseEndSpec(input, { flag: '--until' }),
})

export const topicFlag = Flags.string({
  char: 't',
  summary: 'A topic to read instead of the service stream (repeatable; zero-config use).',
  // Repeat the flag for several values: oclif's greedy default would swallow a following argument
  // (`--topic t acc-42` would read topics t and acc-42).
  multiple: true,
  multipleNonGreedy: true,
})

export const partitionFlag = Flags.integer({
  char: 'p',
  summary: 'Only this partition (repeatable).',
  multiple: true,
  multipleNonGreedy: true,
  min: 0,
})

export const whereFlag = Flags.custom<Predicate>({
  summary: "Keep records where '<path> <op> <value>' holds (repeatable; all must hold).",
  description:
    'Paths: type, key, id, aggregateId, version, headers.<name>, payload.<path>, $.<path> (the whole value). Operators: == != > >= < <= ~ (regex) contains exists.',
  multiple: true,
  multipleNonGreedy: true,
  parse: async (input: string) => parsePredicate(input),
})

export const formatFlag = Flags.custom<RecordFormat>({
  summary: 'Output format, one record per line.',
  options: RECORD_FORMATS,
  default: 'pretty',
  char: 'o',
  parse: async (input: string) => input as RecordFormat,
})

/** A flag's duration text → milliseconds; anything else is a usage error naming the flag. */
export function parseFlagDuration(input: string, flag: string): number {
  const ms = parseDuration(input)
  if (ms !== undefined) return ms
  throw new UsageError(`${flag} "${input}" is not a duration`, {
    code: 'USAGE',
    suggestion: `a duration is ${durationForms}`,
    where: { flag, value: input },
  })
}

export const timeoutFlag = Flags.custom<number>({
  summary: 'How long to wait (500ms, 10s, 1.5m, 1h30m).',
  parse: async (input: string) => parseFlagDuration(input, '--timeout'),
})

/** What to do with an undecodable event: `fail` (exit 5 at that record) or `skip` (count and list it). */
export const onErrorFlag = Flags.custom<'fail' | 'skip'>({
  summary: 'An undecodable event: fail (exit 5 at that record) or skip (count and list it).',
  options: ['fail', 'skip'],
  default: 'fail',
  parse: async (input) => input as 'fail' | 'skip',
})

/**
 * The flags of every command that writes: the one confirmation (`--yes`) and the way past a
 * read-only profile (`--allow-write`, which asks; EsCommand.guardWrite).
 */
export const writeFlags = {
  'allow-write': Flags.boolean({
    summary: 'Write even under a read-only profile (asks for confirmation on a terminal; --yes in scripts).',
  }),
  yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation (scripts).' }),
}

export const cacheFlag = Flags.custom<CacheBound>({
  summary: 'With --state FILE: states kept in memory, a count (100k) or a size (64MB). Default 100k.',
  description:
    'A file-backed state keeps only this many recently used states in memory; the rest live in the file. A size is converted to a count with the average size of the states seen (an estimate of their heap).',
  helpValue: '<count|size>',
  parse: async (input: string) => parseCacheBound(input),
})

/** Threads folding partition groups in parallel: `es replay`, `es rebuild-projection`. */
export const workersFlag = () =>
  Flags.integer({
    summary: 'Threads folding partition groups in parallel (default: one per core for large fresh replays; 1: none).',
    min: 1,
    max: 16,
  })

const CODEC_NAMES = [
  'auto',
  'string',
  'bytes',
  'json',
  'avro',
  'avro-single-object',
  'avro-confluent',
  'protobuf',
  'protobuf-confluent',
  'json-confluent',
]

/**
 * Ad-hoc codecs without a config (kcat's `-s value=avro -r <url>`), on every command that reads or
 * writes a topic. They replace the service's codecs (or zero-config's); see `applyCodecFlags`.
 */
export const codecFlags = {
  'key-codec': Flags.string({
    summary: 'Codec of record keys (overrides the config).',
    options: CODEC_NAMES,
    helpGroup: 'CODEC',
  }),
  'value-codec': Flags.string({
    summary: 'Codec of record values (overrides the config).',
    options: CODEC_NAMES,
    helpGroup: 'CODEC',
  }),
  registry: Flags.string({ summary: 'Schema registry URL (overrides schemaRegistry).', helpGroup: 'CODEC' }),
  schema: Flags.string({
    summary: 'An .avsc (Avro) or JSON Schema file for the codecs (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'CODEC',
  }),
  proto: Flags.string({
    summary: 'A .proto file (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'CODEC',
  }),
  'message-type': Flags.string({
    summary: 'Protobuf message type: a full name, or a locator (header:ce_type | simple-name).',
    helpGroup: 'CODEC',
  }),
}

export interface CodecFlagValues {
  'key-codec'?: string
  'value-codec'?: string
  registry?: string
  schema?: string[]
  proto?: string[]
  'message-type'?: string
}

/** The config with the codec flags applied to the chosen service (zero-config's when none). */
export function applyCodecFlags(
  config: ResolvedConfig,
  serviceName: string | undefined,
  flags: CodecFlagValues,
  cwd = process.cwd(),
): ResolvedConfig {
  const keyCodec = flags['key-codec']
  const valueCodec = flags['value-codec']
  if (!keyCodec && !valueCodec && !flags.registry) return config
  const service = selectService(config, serviceName) ?? zeroConfigService()
  const files = (list: string[] | undefined) => (list ?? []).map((file) => resolve(cwd, file))
  const spec = (type: string, flag: string): CodecSpec => {
    const schemas = files(flags.schema)
    const protos = files(flags.proto)
    const messageType = flags['message-type']
    const need = (what: string) =>
      new UsageError(`${flag} ${type} needs ${what}`, { code: 'USAGE', suggestion: 'see --help (CODEC flags)' })
    switch (type) {
      case 'avro':
        if (!schemas[0]) throw need('--schema <file.avsc>')
        return { type, schema: schemas[0] }
      case 'avro-single-object':
        if (!schemas.length) throw need('--schema <file.avsc> (repeatable)')
        return { type, schemas }
      case 'avro-confluent':
        return schemas[0] ? { type, schema: schemas[0] } : { type }
      case 'protobuf':
        if (!protos.length || !messageType) throw need('--proto <file.proto> and --message-type <name>')
        return { type, protos, messageType }
      case 'protobuf-confluent':
        return { type, ...(protos.length ? { protos } : {}), ...(messageType ? { messageType } : {}) }
      case 'json-confluent':
        return schemas[0] ? { type, schema: schemas[0] } : { type }
      default:
        return { type } as CodecSpec
    }
  }
  const codec = {
    key: keyCodec ? spec(keyCodec, '--key-codec') : service.codec.key,
    value: valueCodec ? spec(valueCodec, '--value-codec') : service.codec.value,
  }
  return {
    ...config,
    ...(flags.registry ? { schemaRegistry: { ...config.schemaRegistry, url: flags.registry } } : {}),
    services: { ...config.services, [service.name]: { ...service, codec } },
  }
}

/** `--partitioner`: how the service's producer maps keys to partitions, over the config's. */
export const partitionerFlag = Flags.option({
  options: PARTITIONERS,
  summary: "How keys map to partitions, overriding the service's config (none: every partition).",
})()
