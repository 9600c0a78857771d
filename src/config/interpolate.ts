/**
 * `${VAR}` interpolation of config strings, and the provenance of every value that did not come
 * literally from the config file: which environment variables a string was made from, or which
 * flag or `ES_*` variable overrode a setting. Messages about a value use `describeValue`, which
 * names the variable instead of showing its value, so that a secret that lands in the wrong field
 * (`mechanism: ${KAFKA_PASSWORD}`) is never echoed.
 */
import { ConfigError } from '../errors.js'

/** A path into the config document: keys and array indexes. */
export type ConfigPath = ReadonlyArray<string | number>

/** Where a setting came from when not literally from the file. */
export type Origin = { kind: 'flag'; flag: string } | { kind: 'env'; variable: string }

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

/** `services.bank.codec.value`, `brokers[1]`; `(top level)` for the root. */
export function formatPath(path: ConfigPath): string {
  let text = ''
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part
  return text || '(top level)'
}

const keyOf = (path: ConfigPath) => path.join('\u0000')

export class Provenance {
  private readonly variables = new Map<string, string[]>()
  private readonly origins = new Map<string, Origin>()
  private readonly aliases: Array<{ from: ConfigPath; to: ConfigPath }> = []

  /** The value at `path` was made from these environment variables. */
  recordVariables(path: ConfigPath, names: string[]): void {
    this.variables.set(keyOf(path), names)
  }

  /** The setting at `path` (and below) came from a flag or an `ES_*` variable. */
  recordOrigin(path: ConfigPath, origin: Origin): void {
    this.origins.set(keyOf(path), origin)
  }

  /** Values under `from` were read from under `to` (a profile's settings, once merged). */
  alias(from: ConfigPath, to: ConfigPath): void {
    this.aliases.push({ from, to })
  }

  /** The environment variables the string at `path` was made from (none: literal, or not a string). */
  variablesAt(path: ConfigPath): string[] {
    return this.variables.get(keyOf(this.documentPath(path))) ?? []
  }

  /** The flag or variable that set `path` or one of its parents, if one did. */
  originOf(path: ConfigPath): Origin | undefined {
    for (let length = path.length; length >= 1; length--) {
      const origin = this.origins.get(keyOf(path.slice(0, length)))
      if (origin) return origin
    }
    return undefined
  }

  /** A flag or variable that set something under `path` (e.g. `sasl.password` under `sasl`). */
  originBelow(path: ConfigPath): Origin | undefined {
    const prefix = path.length === 0 ? '' : `${keyOf(path)}\u0000`
    for (const [key, origin] of this.origins) if (key.startsWith(prefix)) return origin
    return undefined
  }

  /** Where in the config file a resolved setting was written (through profile aliases). */
  documentPath(path: ConfigPath): ConfigPath {
    for (const { from, to } of this.aliases) {
      if (from.every((part, i) => path[i] === part)) return [...to, ...path.slice(from.length)]
    }
    return path
  }

  /**
   * The value at `path` as a message may show it: `${VAR}`'s name when interpolated (never the
   * value), else short JSON.
   */
  describeValue(path: ConfigPath, value: unknown): string {
    const names = this.variablesAt(path)
    if (names.length > 0) return `the value of ${names.map((n) => `\${${n}}`).join(', ')}`
    const origin = this.originOf(path)
    if (origin?.kind === 'env') return `the value of ${origin.variable}`
    const text = JSON.stringify(value) ?? String(value)
    return text.length > 60 ? `${text.slice(0, 57)}…` : text
  }
}

/**
 * Replaces `${VAR}` in every string of `document` (keys stay as written); a variable that is not
 * set is a configuration error naming it and the field.
 */
export function interpolate(
  document: unknown,
  env: NodeJS.ProcessEnv,
  file: string | undefined,
  provenance: Provenance,
): unknown {
  const walk = (value: unknown, path: Array<string | number>): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return value
      const names: string[] = []
      const replaced = value.replace(VARIABLE, (_, variable: string) => {
        const found = env[variable]
        if (found === undefined) {
          throw new ConfigError(`environment variable ${variable} is not set (used at ${formatPath(path)})`, {
            code: 'CONFIG_ENV_MISSING',
            where: { file, path: formatPath(path), variable },
            suggestion: `export ${variable}=… before running es`,
          })
        }
        names.push(variable)
        return found
      })
      if (names.length > 0) provenance.recordVariables(path, names)
      return replaced
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]))
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key])]))
    }
    return value
  }
  return walk(document, [])
}
