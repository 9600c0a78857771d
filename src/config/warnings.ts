/**
 * Warnings about risky configuration, one line each, printed on stderr by the base command:
 * - a secret written literally in the config file (suggest `${VAR}`);
 * - a config file holding secrets that others may read (mode wider than 600);
 * - SASL PLAIN or SCRAM over a connection without TLS;
 * - `ssl.rejectUnauthorized: false`, which verifies nothing about the broker.
 * `--quiet` and the config's `warnings: false` silence the first three; the last is printed on
 * every run that uses it (`silenceable: false`): the narrower `ssl.servername` and
 * `ssl.checkHostname: false` need no warning.
 *
 * `configWarnings` is pure; `readConfigWarnings` reads the file's mode (and a computed config's text).
 */
import { readFile, stat } from 'node:fs/promises'
import { extname, isAbsolute, relative } from 'node:path'
import type { ResolvedConfig } from './types.js'

export interface ConfigWarning {
  message: string
  /** False for the one warning that `--quiet` and `warnings: false` do not silence. */
  silenceable: boolean
}

export interface WarningInput {
  /** The config file as it should be named to the user, if any. */
  file?: string
  /** True for .js/.mjs configs: the document is computed, so only the file's text tells what is written in it. */
  computed: boolean
  /** The document before `${VAR}` interpolation. */
  raw: unknown
  config: ResolvedConfig
  /** The file's permission bits (`stat.mode & 0o777`). */
  mode?: number
  /** The file's text (only needed for computed configs). */
  text?: string
}

/** Field names that hold secrets, wherever they appear. */
const SECRET_FIELD = /^(password|secret|token|apiKey|api_key|clientSecret)$/i
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/:@\s]*:([^@/\s]+)@/i

interface WrittenSecret {
  path: string
  /** How to name it: the path, or "the password in <path>". */
  what: string
  /** How to write it instead. */
  instead: string
}

/** The warnings for a loaded config; none silenceable when its `warnings` (of the profile in use) is false. */
export async function readConfigWarnings(input: {
  file?: string
  /** The document as read, before `${VAR}` interpolation. */
  raw: unknown
  config: ResolvedConfig
  cwd: string
}): Promise<ConfigWarning[]> {
  const { file } = input
  const computed = file !== undefined && ['.js', '.mjs'].includes(extname(file))
  const [mode, text] = file
    ? await Promise.all([
        stat(file).then(
          (s) => s.mode & 0o777,
          () => undefined,
        ),
        computed ? readFile(file, 'utf8').catch(() => '') : undefined,
      ])
    : [undefined, undefined]
  const shown = file === undefined ? undefined : relative(input.cwd, file)
  const warnings = configWarnings({
    file: shown === undefined ? undefined : shown.startsWith('..') || isAbsolute(shown) ? file : shown,
    computed,
    raw: input.raw,
    config: input.config,
    mode,
    text,
  })
  return input.config.warnings ? warnings : warnings.filter((w) => !w.silenceable)
}

export function configWarnings(input: WarningInput): ConfigWarning[] {
  const warnings: ConfigWarning[] = []
  const risky = (message: string) => warnings.push({ message, silenceable: true })
  const secrets = writtenSecrets(input)
  if (input.file !== undefined) {
    for (const secret of secrets.filter((s) => s.instead !== '')) {
      risky(
        `${input.file}: ${secret.what} is written in the file; read it from the environment instead (${secret.instead})`,
      )
    }
    if (secrets.length > 0 && input.mode !== undefined && (input.mode & 0o077) !== 0) {
      risky(
        `${input.file} holds secrets (${secrets.map((s) => s.path).join(', ')}) and others can read it (mode ${input.mode.toString(8).padStart(3, '0')}); chmod 600 ${input.file}`,
      )
    }
  }
  const { kafka } = input.config
  const brokers = kafka.brokers.join(',')
  if (kafka.sasl && !kafka.ssl) {
    risky(
      kafka.sasl.mechanism === 'plain'
        ? `SASL PLAIN without TLS sends the password to ${brokers} in clear text; set ssl (true, or {ca: …})`
        : `SASL ${kafka.sasl.mechanism.toUpperCase()} without TLS: the password is not sent, but the broker at ${brokers} is not verified and every record travels unencrypted; set ssl (true, or {ca: …})`,
    )
  }
  if (typeof kafka.ssl === 'object' && kafka.ssl.rejectUnauthorized === false) {
    warnings.push({
      message: `ssl.rejectUnauthorized is false: the certificate of ${brokers} is not verified at all (neither its CA nor its host name)${kafka.sasl ? ', and the SASL credentials go to whoever answers' : ''}; trust its CA with ssl.ca, and for a host-name mismatch use ssl.servername or ssl.checkHostname: false`,
      silenceable: false,
    })
  }
  return warnings
}

/**
 * Secrets the file itself holds: secret fields and URL passwords written without `${VAR}`, and
 * private keys inline (which have no `instead`: they belong in a file of their own).
 */
function writtenSecrets(input: WarningInput): WrittenSecret[] {
  const found: WrittenSecret[] = []
  const inFile = (value: string) => value !== '' && (!input.computed || (input.text ?? '').includes(value))
  const walk = (value: unknown, path: string, key: string) => {
    if (typeof value === 'string') {
      if (value.includes('${')) return
      if (SECRET_FIELD.test(key) && inFile(value)) {
        found.push({ path, what: path, instead: `${key}: "\${${variableName(path)}}"` })
      } else if (/PRIVATE KEY-----/.test(value) && inFile(value)) {
        found.push({ path, what: path, instead: '' })
      } else {
        const match = URL_PASSWORD.exec(value)
        if (match && inFile(match[1])) {
          const shown = match[0].replace(`:${match[1]}@`, `:\${${urlVariable(path, value)}}@`)
          found.push({ path, what: `the password in ${path}`, instead: `"${shown}…"` })
        }
      }
      return
    }
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, key)
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, k)
    }
  }
  walk(input.raw, '', '')
  return found
}

/** A variable name for a config path: `sasl.password` → KAFKA_PASSWORD, `schemaRegistry.password` → SCHEMA_REGISTRY_PASSWORD. */
function variableName(path: string): string {
  if (path === 'sasl.password') return 'KAFKA_PASSWORD'
  return path
    .replace(/\[\d+\]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()
}

/** The usual variable for a URL's password: PGPASSWORD for PostgreSQL, else one named after the field. */
function urlVariable(path: string, url: string): string {
  if (/^postgres(ql)?:/i.test(url)) return 'PGPASSWORD'
  if (path.startsWith('schemaRegistry')) return 'SCHEMA_REGISTRY_PASSWORD'
  return `${variableName(path.replace(/\.url$/i, ''))}_PASSWORD`
}
