/**
 * Validation of config documents against es.config.schema.json, and the one-line errors made of
 * ajv's findings: the file and line, the path, what is wrong, and what would be right (the nearest
 * valid key, the allowed values, the schema's description of the field).
 *
 * The schema is compiled at build time into standalone code (scripts/config-validator.mjs), so
 * loading it costs milliseconds; the schema itself is read only to explain an error.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import type { ErrorObject } from 'ajv'
import { loadBundled } from '../bundled-modules.js'
import { ConfigError, type EsError, nearMatches, UsageError } from '../errors.js'
import { packageFile } from '../package-root.js'
import { type ConfigPath, formatPath, type Origin, type Provenance } from './interpolate.js'
import type { ConfigDocument } from './types.js'

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

let compiled: Validate | undefined

/** Where a problem is: the config file and a way to find the line of a path in it. */
export interface ConfigSite {
  /** The config file (absolute), if any. */
  file?: string
  /** The 1-based line of the value at `path` (or of its key), when the file format tells. */
  locate?: (path: ConfigPath, key: boolean) => number | undefined
  provenance: Provenance
  cwd?: string
}

/** Throws the configuration error (or usage error, for a flag's value) of the first problem found. */
export function validateConfigDocument(document: unknown, site: ConfigSite): asserts document is ConfigDocument {
  compiled ??= loadBundled<Validate>('config-validator')
  if (compiled(document)) return
  const errors = compiled.errors ?? []
  const { path, key, problem, suggestion } = explain(
    relevantErrors(errors, document)[0],
    document,
    site.provenance,
    errors,
  )
  throw configProblem(site, path, problem, { suggestion, key, code: 'CONFIG_INVALID' })
}

/**
 * A configuration error at `path`, located in the file (`file:line: …`), or a usage error naming the
 * flag or variable that set it.
 */
export function configProblem(
  site: ConfigSite,
  path: ConfigPath,
  problem: string,
  options: { suggestion?: string; key?: boolean; code?: string } = {},
): EsError {
  const code = options.code ?? 'CONFIG_INVALID'
  const origin = originNear(site.provenance, path)
  if (origin) {
    const name = origin.kind === 'flag' ? origin.flag : origin.variable
    return new UsageError(`${name}: ${problem}`, {
      code: 'USAGE',
      suggestion: options.suggestion,
      where: { [origin.kind === 'flag' ? 'flag' : 'variable']: name, path: formatPath(path) },
    })
  }
  const documentPath = site.provenance.documentPath(path)
  const line = site.locate?.(documentPath, options.key ?? false)
  const file = site.file ? displayFile(site.file, site.cwd) : undefined
  const at = file ? `${file}${line ? `:${line}` : ''}: ` : ''
  return new ConfigError(`${at}${problem}`, {
    code,
    suggestion: options.suggestion,
    where: { ...(site.file ? { file: site.file } : {}), ...(line ? { line } : {}), path: formatPath(documentPath) },
  })
}

function originNear(provenance: Provenance, path: ConfigPath): Origin | undefined {
  return provenance.originOf(path) ?? provenance.originBelow(path)
}

function displayFile(file: string, cwd = process.cwd()): string {
  const near = relative(cwd, file)
  return near && !near.startsWith('..') && near.length < file.length ? near : file
}

/**
 * ajv's errors that say what the author got wrong. Every union of the schema is between JSON types
 * (text or a list, true or options…): the branch of the value's type is the one meant, so errors
 * of branches for other types go, and a wrong type is reported only when no branch takes the type.
 */
function relevantErrors(errors: ErrorObject[], document: unknown): ErrorObject[] {
  const specific = errors.filter((e) => {
    if (['anyOf', 'oneOf', 'if', 'allOf'].includes(e.keyword)) return false
    if (e.keyword === 'type') return true
    const declared = (e.parentSchema as { type?: string | string[] } | undefined)?.type
    return (
      declared === undefined ||
      typeMatches(declared, valueAt(document, documentPath(document, pointerPath(e.instancePath))))
    )
  })
  const deeper = (e: ErrorObject) =>
    specific.some((o) => o.keyword !== 'type' && `${o.instancePath}/`.startsWith(`${e.instancePath}/`))
  const kept = specific.filter((e) => e.keyword !== 'type' || !deeper(e))
  // Unknown keys first (the typo everything else follows from), then missing keys, then the
  // deepest problem.
  const rank = (e: ErrorObject) => (e.keyword === 'additionalProperties' ? 0 : e.keyword === 'required' ? 1 : 2)
  const depth = (e: ErrorObject) => e.instancePath.split('/').length
  return kept.sort((a, b) => rank(a) - rank(b) || depth(b) - depth(a))
}

function typeMatches(declared: string | string[], value: unknown): boolean {
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value
  return ([] as string[])
    .concat(declared)
    .some(
      (t) => t === actual || (t === 'integer' && Number.isInteger(value)) || (t === 'number' && actual === 'number'),
    )
}

function pointerPath(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function valueAt(document: unknown, path: ConfigPath): unknown {
  let current = document
  for (const part of path) current = (current as Record<string | number, unknown> | undefined)?.[part]
  return current
}

/** The path as config positions: array indexes as numbers. */
function documentPath(document: unknown, parts: string[]): Array<string | number> {
  const path: Array<string | number> = []
  let current = document
  for (const part of parts) {
    const index = Array.isArray(current) ? Number(part) : Number.NaN
    path.push(Number.isInteger(index) ? index : part)
    current = (current as Record<string, unknown> | undefined)?.[part]
  }
  return path
}

type SchemaNode = { description?: string; $ref?: string; [keyword: string]: unknown }
let definitions: Record<string, SchemaNode> | undefined

/** A schema node's description, or that of the definition it refers to. */
function descriptionOf(node: SchemaNode | undefined): string | undefined {
  if (node?.description !== undefined) return node.description
  if (typeof node?.$ref !== 'string') return undefined
  definitions ??= JSON.parse(readFileSync(packageFile('es.config.schema.json'), 'utf8')).definitions as Record<
    string,
    SchemaNode
  >
  return descriptionOf(definitions[node.$ref.replace('#/definitions/', '')])
}

/** The description that explains an error: of its schema, else of the union it is a branch of. */
function describedBy(error: ErrorObject, errors: ErrorObject[]): string | undefined {
  const own = descriptionOf(error.parentSchema as SchemaNode | undefined)
  if (own) return own
  const union = errors.find((e) => ['anyOf', 'oneOf'].includes(e.keyword) && e.instancePath === error.instancePath)
  return descriptionOf(union?.parentSchema as SchemaNode | undefined)
}

const typeWords: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
  null: 'null',
}

interface Explanation {
  path: ConfigPath
  /** The problem is the key itself (an unknown key): locate the key, not its value. */
  key: boolean
  problem: string
  suggestion?: string
}

function explain(error: ErrorObject, document: unknown, provenance: Provenance, errors: ErrorObject[]): Explanation {
  const path = documentPath(document, pointerPath(error.instancePath))
  const where = formatPath(path)
  const actual = valueAt(document, path)
  // Only scalars are shown (an object may hold a password), and interpolated ones by their variable.
  const value = () =>
    actual !== null && typeof actual === 'object' ? 'this value' : provenance.describeValue(path, actual)
  const described = describedBy(error, errors)
  const parent = error.parentSchema as SchemaNode | undefined
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty
      const valid = Object.keys((parent?.properties as object | undefined) ?? {}).filter((k) => k !== '$schema')
      const near = nearMatches(extra, valid, 1)
      return {
        path: [...path, extra],
        key: true,
        problem: `unknown key "${extra}" ${path.length === 0 ? 'at the top level' : `in ${where}`}`,
        suggestion: `${near.length ? `did you mean "${near[0]}"? ` : ''}valid keys here: ${valid.join(', ')}`,
      }
    }
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty
      const field = (parent?.properties as Record<string, SchemaNode> | undefined)?.[missing]
      return { path, key: true, problem: `${where} needs "${missing}"`, suggestion: descriptionOf(field) ?? described }
    }
    case 'type': {
      // Every branch of a union failed on the type: name them all.
      const types = errors
        .filter((e) => e.keyword === 'type' && e.instancePath === error.instancePath)
        .flatMap((e) => String((e.params as { type: string | string[] }).type).split(','))
      const words = [...new Set(types.map((t) => typeWords[t] ?? t))]
      return { path, key: false, problem: `${where} must be ${words.join(' or ')}`, suggestion: described }
    }
    case 'enum':
    case 'const': {
      const params = error.params as { allowedValues?: unknown[]; allowedValue?: unknown }
      const allowed = (params.allowedValues ?? [params.allowedValue]).map(String)
      const shown = [...new Set(allowed.map((a) => a.toLowerCase()))]
      const near =
        typeof actual === 'string' && provenance.variablesAt(path).length === 0 ? nearMatches(actual, allowed, 1) : []
      return {
        path,
        key: false,
        problem: `${where} must be one of ${shown.join(', ')} (got ${value()})`,
        suggestion: near.length ? `did you mean ${near[0]}?` : described,
      }
    }
    case 'not':
      return {
        path,
        key: false,
        problem: `${where}: ${value()} is not allowed here`,
        suggestion: descriptionOf((parent as { not?: SchemaNode } | undefined)?.not) ?? described,
      }
    case 'pattern':
      return { path, key: false, problem: `${where}: ${value()} is not valid here`, suggestion: described }
    case 'minLength':
      return { path, key: false, problem: `${where} must not be empty`, suggestion: described }
    case 'minItems':
      return { path, key: false, problem: `${where} must not be an empty list`, suggestion: described }
    default:
      return { path, key: false, problem: `${where} ${error.message ?? 'is invalid'}`, suggestion: described }
  }
}
