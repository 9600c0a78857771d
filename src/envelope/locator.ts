/**
 * Locators: where one envelope field lives in a record (grammar in src/config/types.ts,
 * EnvelopeSpec). A locator is a source followed by stages:
 *   source  `$…` (a path into the value) | `key` | `header:NAME` | `topic` | `partition` |
 *           `offset` | `timestamp` | `schema` (the Avro writer schema's full name) | `none`
 *   stage   `$…` (a path into the current value) | `json` | `simple-name` | `string` | `number` |
 *           `lower` | `upper` (text in one case: UUIDs one producer writes in upper case and
 *           another in lower case name one aggregate)
 * Parsed once per field into a reader (hot path: no parsing, no allocation beyond what stages
 * produce) and a writer (for encoding commands). A bad locator is a ConfigError naming the
 * config field.
 */
import { DecodeError, EncodeError } from '../codecs/codec-errors.js'
import { parseJsonText, stringifyJson } from '../codecs/json-codec.js'
import { ConfigError, nearMatches } from '../errors.js'
import type { KafkaRecord } from '../kafka/record.js'
import {
  compileJsonPath,
  JsonPathWriteError,
  type PathSegment,
  parseJsonPath,
  readJsonPath,
  setJsonPath,
} from './json-path.js'

export type LocatorSource =
  | { kind: 'value' }
  | { kind: 'key' }
  | { kind: 'header'; name: string }
  | { kind: 'topic' | 'partition' | 'offset' | 'timestamp' | 'schema' | 'none' }

export type LocatorStage =
  | { kind: 'path'; segments: PathSegment[] }
  | { kind: 'json' }
  | { kind: 'simple-name' }
  | { kind: 'string' }
  | { kind: 'number' }
  | { kind: 'lower' }
  | { kind: 'upper' }

export interface Locator {
  /** As written in the config. */
  readonly text: string
  /** The config field, e.g. `services.bank.envelope.type`. */
  readonly field: string
  readonly source: LocatorSource
  readonly stages: readonly LocatorStage[]
}

const METADATA_SOURCES = ['topic', 'partition', 'offset', 'timestamp', 'schema', 'none'] as const
const STAGES = ['json', 'simple-name', 'string', 'number', 'lower', 'upper']

export function parseLocator(text: string, field: string): Locator {
  if (typeof text !== 'string') {
    throw new ConfigError(`${field} must be a locator string (e.g. $.type, key, header:__TypeId__)`, {
      code: 'CONFIG_INVALID',
      where: { path: field },
    })
  }
  const fail = (reason: string, suggestion?: string): never => {
    throw new ConfigError(`invalid locator "${text}" at ${field}: ${reason}`, {
      code: 'CONFIG_INVALID',
      where: { path: field },
      suggestion,
    })
  }
  const parts = splitStages(text).map((part) => part.trim())
  if (parts.some((part) => part === '')) fail('an empty stage (two "|" in a row, or one at an end)')
  const [first, ...rest] = parts
  const stages: LocatorStage[] = []
  let source: LocatorSource
  if (first.startsWith('$')) {
    source = { kind: 'value' }
    stages.push(pathStage(first, fail))
  } else if (first === 'key') {
    source = { kind: 'key' }
  } else if (first.startsWith('header:')) {
    const name = first.slice('header:'.length).trim()
    if (!name) fail('a header name is missing after "header:"')
    source = { kind: 'header', name }
  } else if ((METADATA_SOURCES as readonly string[]).includes(first)) {
    source = { kind: first as (typeof METADATA_SOURCES)[number] }
  } else {
    const known = ['$.<path>', 'key', 'header:<name>', ...METADATA_SOURCES]
    const near = nearMatches(first, ['key', 'header:', ...METADATA_SOURCES])
    return fail(
      `"${first}" is not a source`,
      `start with one of ${known.join(', ')}${near.length ? `; did you mean ${near[0]}?` : ''}`,
    )
  }
  if (source.kind === 'none' && rest.length > 0) fail('"none" takes no stages')
  for (const part of rest) {
    if (part.startsWith('$')) stages.push(pathStage(part, fail))
    else if (STAGES.includes(part)) stages.push({ kind: part } as LocatorStage)
    else {
      const near = nearMatches(part, STAGES)
      fail(
        `unknown stage "${part}"`,
        `stages are ${STAGES.join(', ')} or a $.path${near.length ? `; did you mean ${near[0]}?` : ''}`,
      )
    }
  }
  return { text, field, source, stages }
}

function pathStage(text: string, fail: (reason: string) => never): LocatorStage {
  const segments = parseJsonPath(text)
  if (typeof segments === 'string') fail(`${text}: ${segments}`)
  return { kind: 'path', segments: segments as PathSegment[] }
}

/** Splits on `|` outside quoted names. */
function splitStages(text: string): string[] {
  const parts: string[] = []
  let current = ''
  let quote: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === '\\') {
        current += c + (text[i + 1] ?? '')
        i++
        continue
      }
      if (c === quote) quote = undefined
    } else if (c === "'" || c === '"') quote = c
    else if (c === '|') {
      parts.push(current)
      current = ''
      continue
    }
    current += c
  }
  parts.push(current)
  return parts
}

/**
 * What readers see of one record. The envelope decoder owns one frame and refills it per record,
 * so evaluating locators allocates nothing for the frame itself.
 */
export interface LocatorFrame {
  record: KafkaRecord
  key: unknown
  value: unknown
  /** The value's Avro writer schema name (only called by `schema` locators). */
  valueSchemaName: () => string | undefined
  /** Increases per record: `| json` results are shared between fields of one record only. */
  generation: number
  jsonCache: JsonStageCache
}

/** Several fields often parse the same embedded document (`$.details | json | …`): parse it once. */
export interface JsonStageCache {
  generation: number
  inputs: unknown[]
  outputs: unknown[]
}

export function newJsonStageCache(): JsonStageCache {
  return { generation: -1, inputs: [], outputs: [] }
}

export type LocatorReader = (frame: LocatorFrame) => unknown

export interface LocatorReadOptions {
  /** JSON paths match names ignoring case (the service's `envelope.ignoreCase`). */
  ignoreCase?: boolean
}

export function compileLocatorReader(locator: Locator, options: LocatorReadOptions = {}): LocatorReader {
  let read = sourceReader(locator.source)
  for (const stage of locator.stages) {
    const previous = read
    switch (stage.kind) {
      case 'path': {
        const access = compileJsonPath(stage.segments, options)
        read = stage.segments.length === 0 ? previous : (frame) => access(previous(frame))
        break
      }
      case 'json':
        read = (frame) => parseEmbeddedJson(previous(frame), frame, locator)
        break
      case 'simple-name':
        read = (frame) => simpleName(previous(frame))
        break
      case 'string':
        read = (frame) => toText(previous(frame))
        break
      case 'number':
        read = (frame) => toNumber(previous(frame))
        break
      case 'lower':
        read = (frame) => changeCase(previous(frame), 'lower')
        break
      case 'upper':
        read = (frame) => changeCase(previous(frame), 'upper')
        break
    }
  }
  return read
}

function sourceReader(source: LocatorSource): LocatorReader {
  switch (source.kind) {
    case 'value':
      return (frame) => frame.value
    case 'key':
      return (frame) => frame.key
    case 'header': {
      const name = source.name
      return (frame) => {
        const header = frame.record.headers[name]
        return header === undefined ? undefined : typeof header === 'string' ? header : header.toString('utf8')
      }
    }
    case 'topic':
      return (frame) => frame.record.topic
    case 'partition':
      return (frame) => frame.record.partition
    case 'offset':
      return (frame) => frame.record.offset
    case 'timestamp':
      return (frame) => frame.record.timestamp
    case 'schema':
      return (frame) => frame.valueSchemaName()
    case 'none':
      return () => undefined
  }
}

function parseEmbeddedJson(input: unknown, frame: LocatorFrame, locator: Locator): unknown {
  if (input === undefined || input === null) return undefined
  // Producers sometimes embed the object itself rather than its text: take it as it is.
  if (typeof input === 'object' && !Buffer.isBuffer(input)) return input
  const cache = frame.jsonCache
  if (cache.generation !== frame.generation) {
    cache.generation = frame.generation
    cache.inputs.length = 0
    cache.outputs.length = 0
  } else {
    const index = cache.inputs.indexOf(input)
    if (index >= 0) return cache.outputs[index]
  }
  const text = Buffer.isBuffer(input) ? input.toString('utf8') : String(input)
  let parsed: unknown
  try {
    parsed = parseJsonText(text)
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error
    throw new DecodeError(`${locator.text}: ${error.reason}`, { code: 'INVALID_JSON', where: { path: locator.field } })
  }
  cache.inputs.push(input)
  cache.outputs.push(parsed)
  return parsed
}

/** `com.acme.events.FundsDeposited` → `FundsDeposited`; `com.acme.Outer$Inner` → `Inner`. */
export function simpleName(value: unknown): unknown {
  if (typeof value !== 'string') return value
  const cut = Math.max(value.lastIndexOf('.'), value.lastIndexOf('$'))
  return cut < 0 ? value : value.slice(cut + 1)
}

/** Text form of a located value: strings as they are, numbers as text, objects as JSON. */
export function toText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (Buffer.isBuffer(value)) return value.toString('base64')
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}

/** Text in one case; other values as they are. */
function changeCase(value: unknown, to: 'lower' | 'upper'): unknown {
  if (typeof value !== 'string') return value
  return to === 'lower' ? value.toLowerCase() : value.toUpperCase()
}

/** A number from a number or numeric text; undefined otherwise. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value)
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}

/** The parts of a record being built by the command encoder. */
export interface WriteTarget {
  value: unknown
  key: unknown
  keyWritten: boolean
  headers: Record<string, string>
}

export interface WriteContext {
  /** Simple → full type names for `| simple-name` (EnvelopeSpec.typeNames). */
  typeNames?: Record<string, string>
  /** The typeNames setting, for messages. */
  typeNamesField: string
}

/**
 * Writes `value` where the locator points. Returns false for sources that cannot be written
 * (record metadata, `schema`, `none`): the producer or the codec decides those.
 */
export function writeThroughLocator(
  locator: Locator,
  target: WriteTarget,
  value: unknown,
  context: WriteContext,
): boolean {
  const write = (current: unknown) => writeStages(current, locator.stages, 0, value, locator, context)
  switch (locator.source.kind) {
    case 'value':
      target.value = write(target.value)
      return true
    case 'key':
      target.key = write(target.key)
      target.keyWritten = true
      return true
    case 'header': {
      const name = locator.source.name
      const text = toText(write(target.headers[name]))
      if (text === undefined) delete target.headers[name]
      else target.headers[name] = text
      return true
    }
    default:
      return false
  }
}

/**
 * Reading applies stages left to right; writing inverts them: a stage's inverse takes what the
 * slot holds now and the value the later stages produced, and returns the slot's new content.
 */
/** Writes `value` through `stages` from `index` on (one write per command: nothing compiled here). */
function writeStages(
  current: unknown,
  stages: readonly LocatorStage[],
  index: number,
  value: unknown,
  locator: Locator,
  context: WriteContext,
): unknown {
  if (index === stages.length) return value
  const stage = stages[index]
  const rest = index + 1
  switch (stage.kind) {
    case 'path': {
      const inner = writeStages(readJsonPath(current, stage.segments), stages, rest, value, locator, context)
      try {
        return setJsonPath(current, stage.segments, inner)
      } catch (error) {
        if (!(error instanceof JsonPathWriteError)) throw error
        throw new EncodeError(`cannot write ${locator.text} (${locator.field}): ${error.message}`, {
          code: 'ENVELOPE_WRITE_BLOCKED',
          where: { path: locator.field },
        })
      }
    }
    case 'json': {
      let document: unknown
      if (typeof current === 'string' && current !== '') {
        try {
          document = parseJsonText(current)
        } catch {
          throw new EncodeError(`cannot write ${locator.text}: the field holds text that is not JSON`, {
            code: 'ENVELOPE_WRITE_BLOCKED',
            where: { path: locator.field },
          })
        }
      } else if (typeof current === 'object' && current !== null) document = current
      return stringifyJson(writeStages(document, stages, rest, value, locator, context))
    }
    case 'simple-name':
      return fullTypeName(writeStages(undefined, stages, rest, value, locator, context), context)
    case 'string':
      return toText(writeStages(undefined, stages, rest, value, locator, context))
    case 'number':
      return toNumber(writeStages(undefined, stages, rest, value, locator, context))
    case 'lower':
      return changeCase(writeStages(undefined, stages, rest, value, locator, context), 'lower')
    case 'upper':
      return changeCase(writeStages(undefined, stages, rest, value, locator, context), 'upper')
  }
}

function fullTypeName(name: unknown, context: WriteContext): unknown {
  if (typeof name !== 'string') return name
  const mapped = context.typeNames?.[name]
  if (mapped !== undefined) return mapped
  if (name.includes('.') || name.includes('$')) return name
  throw new ConfigError(`type "${name}" is written through "| simple-name" but its full name is unknown`, {
    code: 'CONFIG_INVALID',
    where: { path: context.typeNamesField },
    suggestion: `add ${context.typeNamesField}.${name}: <full class name> to the config, or pass the full name`,
  })
}

/** True when the locator ends in `| number` (the field holds epoch milliseconds, not ISO text). */
export function endsInNumber(locator: Locator): boolean {
  return locator.stages.at(-1)?.kind === 'number'
}
