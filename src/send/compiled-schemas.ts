/**
 * Command JSON Schemas compiled once per machine, not at every `es send-command`: loading ajv and
 * compiling a schema cost ~50–60 ms of a command's start-up. The first use compiles with ajv and
 * keeps ajv's standalone code of the validator in `$ES_HOME/cache/schemas/<hash>.cjs` (`~/.es`;
 * directory 0700, files 0600, written whole then renamed); later uses load that file, whose
 * `require`s (ajv's runtime helpers, ajv-formats) resolve from es's own node_modules. The hash
 * covers the schema, ajv's and ajv-formats' versions and the options, so a changed schema or an
 * upgrade compiles again. A cache that cannot be read or written is skipped: validation is the
 * same either way.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { ValidateFunction } from 'ajv'

const require = createRequire(import.meta.url)

/** Bumped when the options below change: old files are then never read again. */
const CODE_VERSION = 1

export interface CompiledSchema {
  validate: ValidateFunction
  /** Where the validator came from: the cache file, or ajv now. */
  from: 'cache' | 'ajv'
}

export function schemaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.ES_HOME ?? join(homedir(), '.es'), 'cache', 'schemas')
}

/** The validator of `schema`; throws ajv's error for an invalid schema. */
export function compileCommandSchema(schema: object, dir = schemaCacheDir()): CompiledSchema {
  const file = join(dir, `${schemaHash(schema)}.cjs`)
  const cached = loadValidator(file)
  if (cached) return { validate: cached, from: 'cache' }
  const ajv = compiler()
  const validate = ajv.compile(schema) as ValidateFunction
  try {
    const standaloneCode = require('ajv/dist/standalone/index.js').default as (ajv: unknown, v: unknown) => string
    const code = standaloneCode(ajv, validate)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const partial = `${file}.${process.pid}.partial`
    writeFileSync(partial, code, { mode: 0o600 })
    renameSync(partial, file)
  } catch {
    // Not cached (read-only home, a schema standalone code cannot express): compiled each time.
  }
  return { validate, from: 'ajv' }
}

function loadValidator(file: string): ValidateFunction | undefined {
  let code: string
  try {
    code = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const module = { exports: {} as unknown }
    new Function('require', 'module', 'exports', code)(require, module, module.exports)
    const validate = module.exports as ValidateFunction
    return typeof validate === 'function' ? validate : undefined
  } catch {
    return undefined
  }
}

let versions: string | undefined

function schemaHash(schema: object): string {
  versions ??= ['ajv', 'ajv-formats']
    .map((name) => `${name}@${(require(`${name}/package.json`) as { version: string }).version}`)
    .join(' ')
  return createHash('sha256')
    .update(`${CODE_VERSION} ${versions}\n${JSON.stringify(schema)}`)
    .digest('hex')
    .slice(0, 32)
}

type Ajv = { compile: (schema: object) => unknown }
let ajv: Ajv | undefined

function compiler(): Ajv {
  if (!ajv) {
    const { default: Ajv, _ } = require('ajv') as {
      default: new (options: object) => Ajv
      _: (strings: TemplateStringsArray, ...values: unknown[]) => unknown
    }
    const addFormats = require('ajv-formats').default as (ajv: object) => void
    // Formats are validated (uuid, date-time, email, uri… from ajv-formats), and a format ajv does
    // not know is an invalid schema rather than one that silently accepts anything. Keywords it
    // does not know (x-…, examples) are accepted quietly: command schemas are often shared.
    ajv = new Ajv({
      allErrors: true,
      strict: 'log',
      logger: false,
      code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
    })
    addFormats(ajv)
  }
  return ajv
}
