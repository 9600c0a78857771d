/**
 * `${VAR}` in config strings: replaced by environment variables, with a record of where each one
 * was used, so that an error about such a value names the variable and never shows the value
 * (it is often a secret that landed in the wrong field).
 */
import { ConfigError } from '../errors.js'

/** One config string that used `${VAR}`: its path, the text as written, and the text it became. */
export interface InterpolatedValue {
  path: string
  template: string
  value: string
  variables: Array<{ name: string; value: string }>
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

/** The document with every `${VAR}` replaced; a missing variable is a ConfigError naming the field. */
export function interpolate(
  document: unknown,
  env: NodeJS.ProcessEnv,
  file: string | undefined,
): { document: unknown; interpolated: InterpolatedValue[] } {
  const interpolated: InterpolatedValue[] = []
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return value
      const variables: InterpolatedValue['variables'] = []
      const replaced = value.replace(VARIABLE, (_, name: string) => {
        const found = env[name]
        if (found === undefined) {
          throw new ConfigError(`environment variable ${name} is not set (used at ${path || '(root)'})`, {
            code: 'CONFIG_ENV_MISSING',
            where: { file, path },
          })
        }
        variables.push({ name, value: found })
        return found
      })
      if (variables.length > 0) interpolated.push({ path, template: value, value: replaced, variables })
      return replaced
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`))
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, path ? `${path}.${k}` : k)]))
    }
    return value
  }
  return { document: walk(document, ''), interpolated }
}

/** Values shorter than this are only replaced where quoted, to leave ordinary words alone. */
const MIN_BARE_LENGTH = 4

/**
 * `text` with every value that came from `${VAR}` replaced by where it came from: a quoted value
 * (`"hunter2"`) becomes `the value of ${VAR}`, an unquoted one `${VAR}`.
 */
export function hideInterpolated(text: string, interpolated: InterpolatedValue[]): string {
  const replacements: Array<{ value: string; shown: string }> = []
  for (const entry of interpolated) {
    if (entry.value !== '') replacements.push({ value: entry.value, shown: entry.template })
    for (const variable of entry.variables) {
      if (variable.value !== '') replacements.push({ value: variable.value, shown: `\${${variable.name}}` })
    }
  }
  replacements.sort((a, b) => b.value.length - a.value.length)
  let result = text
  for (const { value, shown } of replacements) {
    const quoted = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(shown) ? `the value of ${shown}` : `"${shown}"`
    result = result.split(`"${value}"`).join(quoted)
    if (value.length >= MIN_BARE_LENGTH) result = result.split(value).join(shown)
  }
  return result
}

/**
 * The same error with interpolated values hidden from its message, stack, suggestion and `where`
 * (the stack is printed with --verbose). Its cause, which may quote the value, is dropped.
 */
export function withoutInterpolatedValues(error: unknown, interpolated: InterpolatedValue[]): unknown {
  if (interpolated.length === 0 || !(error instanceof Error)) return error
  const hide = (text: string) => hideInterpolated(text, interpolated)
  const mutable = error as Error & { suggestion?: string; where?: Record<string, unknown>; cause?: unknown }
  mutable.message = hide(mutable.message)
  if (mutable.stack) mutable.stack = hide(mutable.stack)
  if (typeof mutable.suggestion === 'string') mutable.suggestion = hide(mutable.suggestion)
  if (mutable.where) mutable.where = hideDeep(mutable.where, interpolated) as Record<string, unknown>
  if (mutable.cause !== undefined) mutable.cause = undefined
  return error
}

function hideDeep(value: unknown, interpolated: InterpolatedValue[]): unknown {
  if (typeof value === 'string') {
    const whole = interpolated.find((entry) => entry.value === value)
    return whole ? whole.template : hideInterpolated(value, interpolated)
  }
  if (Array.isArray(value)) return value.map((v) => hideDeep(v, interpolated))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hideDeep(v, interpolated)]))
  }
  return value
}
