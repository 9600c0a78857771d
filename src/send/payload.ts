/**
 * A command's payload: parsed from `--data`, `--data-file <path|->`, and validated against the
 * command type's JSON Schema before anything is produced.
 */
import { readFile } from 'node:fs/promises'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { jsonErrorPosition } from '../codecs/json-codec.js'
import { ConfigError, InvalidDataError, nearMatches, UsageError } from '../errors.js'
import { readStdinBytes } from '../stdin.js'
import { compileCommandSchema } from './compiled-schemas.js'

/** Parses JSON text; an error names the source and the line:column of the problem. */
export function parsePayload(text: string, source: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    const message = (error as Error).message
    // V8 names the position for most errors, but not for "Unexpected token 'x', "…" is not valid
    // JSON" nor "Unexpected end of JSON input": find it then by scanning the text ourselves.
    const position = /position (\d+)/.exec(message)
    const offset = position ? Number(position[1]) : (jsonErrorPosition(text) ?? -1)
    let where = ''
    if (offset >= 0) {
      const before = text.slice(0, offset)
      const line = before.split('\n').length
      const column = offset - before.lastIndexOf('\n')
      where = ` at line ${line}, column ${column}`
    }
    const reason = message
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/ at position \d+.*$/, '')
      .replace(/, ".*" is not valid JSON$/s, '')
    throw new InvalidDataError(`${source} is not valid JSON${where}: ${reason}`, {
      code: 'INVALID_JSON',
      where: { source, ...(offset >= 0 ? { position: offset } : {}) },
    })
  }
}

export interface PayloadSources {
  data?: string
  dataFile?: string
  /** Reads all of stdin (for `-`). */
  readStdin: () => Promise<string>
}

export async function readPayload(sources: PayloadSources): Promise<unknown | undefined> {
  if (sources.data !== undefined && sources.dataFile !== undefined) {
    throw new UsageError('--data and --data-file exclude each other', { code: 'USAGE' })
  }
  if (sources.data !== undefined) return parsePayload(sources.data, '--data')
  if (sources.dataFile === '-') return parsePayload(await sources.readStdin(), 'stdin')
  if (sources.dataFile !== undefined) {
    let text: string
    try {
      text = await readFile(sources.dataFile, 'utf8')
    } catch (error) {
      throw new UsageError(`cannot read --data-file ${sources.dataFile}: ${(error as NodeJS.ErrnoException).code}`, {
        code: 'USAGE',
        where: { file: sources.dataFile },
      })
    }
    return parsePayload(text, sources.dataFile)
  }
  return undefined
}

const compiled = new WeakMap<object, ValidateFunction>()

/** Validates a payload; the error names the field path and the rule that failed (exit 5). */
export function validatePayload(type: string, schema: object | undefined, payload: unknown): void {
  if (!schema) return
  let validate = compiled.get(schema)
  try {
    if (!validate) {
      validate = compileCommandSchema(schema).validate
      compiled.set(schema, validate)
    }
  } catch (error) {
    throw new ConfigError(`the JSON Schema of command ${type} is invalid: ${(error as Error).message}`, {
      code: 'SCHEMA_INVALID',
    })
  }
  if (validate(payload)) return
  const errors = validate.errors ?? []
  const first = errors[0]
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
  throw new InvalidDataError(`${type} payload is invalid: ${describeSchemaError(first)}${more}`, {
    code: 'SCHEMA_VIOLATION',
    where: { path: fieldPath(first), rule: first?.keyword, errors: errors.map(describeSchemaError) },
  })
}

function fieldPath(error: ErrorObject | undefined): string {
  if (!error) return '$'
  const base = `$${error.instancePath.replace(/\//g, '.')}`
  if (error.keyword === 'required')
    return `${base === '$' ? '$' : base}.${(error.params as { missingProperty: string }).missingProperty}`
  if (error.keyword === 'additionalProperties') {
    return `${base}.${(error.params as { additionalProperty: string }).additionalProperty}`
  }
  return base
}

export function describeSchemaError(error: ErrorObject | undefined): string {
  if (!error) return 'invalid'
  const path = fieldPath(error)
  switch (error.keyword) {
    case 'required':
      return `${path} is required`
    case 'additionalProperties':
      return `${path} is not allowed (additionalProperties)`
    case 'enum':
      return `${path} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')} (enum)`
    default:
      return `${path} ${error.message} (${error.keyword})`
  }
}

/** The command type's config, or a configuration error listing the known types (exit 3). */
export function requireCommandType<T>(commands: Record<string, T>, type: string, service: string): T {
  const spec = commands[type]
  if (spec !== undefined) return spec
  const known = Object.keys(commands)
  const near = nearMatches(type, known)
  throw new ConfigError(`unknown command type "${type}" for service ${service}`, {
    code: 'UNKNOWN_COMMAND_TYPE',
    suggestion: known.length
      ? `known types: ${known.join(', ')}${near.length ? `; did you mean ${near[0]}?` : ''}`
      : `service ${service} declares no commands in its config`,
  })
}

/** `--header k=v` pairs. */
export function parseHeaders(pairs: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--header "${pair}" is not k=v`, { code: 'USAGE' })
    headers[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return headers
}

/** All of stdin, as text. */
export async function readStdin(): Promise<string> {
  return (await readStdinBytes()).toString('utf8')
}
