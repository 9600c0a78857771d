/**
 * Record filters for `es tail`: by key, by event type (from wherever the envelope says the type
 * lives: a header, a payload path…), and simple predicates `--where '<path> <op> <value>'`.
 *
 * A path is evaluated against the decoded event: `type`, `key`, `id`, `aggregateId`, `version`,
 * `timestamp`, `partition`, `offset`, `headers.<name>`, `payload.<path>`, or `$.<path>` (the whole
 * decoded value). Operators: == != > >= < <= ~ (regular expression), contains, exists.
 */
import { UsageError } from '../errors.js'

export interface FilterableEvent {
  type?: string
  key?: unknown
  payload?: unknown
  value?: unknown
  headers?: Record<string, string>
  [field: string]: unknown
}

export interface RecordFilter {
  keys?: string[]
  types?: string[]
  where?: Predicate[]
}

export type Operator = '==' | '!=' | '>' | '>=' | '<' | '<=' | '~' | 'contains' | 'exists'

export interface Predicate {
  source: string
  path: string[]
  root: 'event' | 'value'
  operator: Operator
  value?: string | number | boolean | null
  regex?: RegExp
}

const OPERATORS: Operator[] = ['==', '!=', '>=', '<=', '>', '<', '~', 'contains', 'exists']

/** Parses one `--where` expression; a bad one is a usage error (exit 2) showing the form. */
export function parsePredicate(expression: string): Predicate {
  const accepted = `operators: ${OPERATORS.join(' ')}`
  const usage = () =>
    new UsageError(`--where "${expression}" is not "<path> <op> <value>"`, {
      code: 'BAD_PREDICATE',
      suggestion: `e.g. --where 'payload.amount > 100'; ${accepted}`,
    })
  // The operator is the whole run of operator characters after the path (`>>` is not `>` then `>`).
  const symbolic = /^\s*([^\s=!<>~]+)\s*([=!<>~]+)\s*(.*)$/.exec(expression)
  const worded = /^\s*(\S+)\s+(contains|exists)\b\s*(.*)$/.exec(expression)
  const match = symbolic ?? worded
  if (!match) throw usage()
  const [, rawPath, rawOperator, rawValue] = match
  const operator = rawOperator as Operator
  if (!OPERATORS.includes(operator)) {
    throw new UsageError(`--where "${expression}": unknown operator ${rawOperator}`, {
      code: 'BAD_PREDICATE',
      suggestion: accepted,
      where: { flag: '--where', operator: rawOperator },
    })
  }
  if (operator === 'exists' ? rawValue.trim() !== '' : rawValue.trim() === '') throw usage()
  const root = rawPath.startsWith('$') ? 'value' : 'event'
  const path = splitPath(rawPath.replace(/^\$\.?/, ''))
  const predicate: Predicate = { source: expression, path, root, operator }
  if (operator === 'exists') return predicate
  const text = rawValue.trim()
  if (operator === '~') {
    try {
      predicate.regex = new RegExp(text.replace(/^\/(.*)\/$/, '$1'))
    } catch (error) {
      throw new UsageError(`--where "${expression}": ${(error as Error).message}`, { code: 'BAD_PREDICATE' })
    }
    return predicate
  }
  predicate.value = parseLiteral(text)
  return predicate
}

function splitPath(path: string): string[] {
  if (path === '') return []
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((part) => part !== '')
}

function parseLiteral(text: string): string | number | boolean | null {
  if (/^(['"]).*\1$/.test(text)) return text.slice(1, -1)
  if (text === 'true') return true
  if (text === 'false') return false
  if (text === 'null') return null
  if (text !== '' && !Number.isNaN(Number(text))) return Number(text)
  return text
}

function lookup(root: unknown, path: string[]): unknown {
  let current = root
  for (const part of path) {
    if (current === null || current === undefined || typeof current !== 'object') return undefined
    current = (current as Record<string, unknown>)[part]
  }
  return current
}

export function evaluate(predicate: Predicate, event: FilterableEvent): boolean {
  const actual = predicate.root === 'value' ? lookup(event.value, predicate.path) : lookup(event, predicate.path)
  const expected = predicate.value
  switch (predicate.operator) {
    case 'exists':
      return actual !== undefined && actual !== null
    case '~':
      return actual !== undefined && predicate.regex!.test(typeof actual === 'string' ? actual : JSON.stringify(actual))
    case 'contains':
      if (typeof actual === 'string') return actual.includes(String(expected))
      if (Array.isArray(actual)) return actual.some((item) => looselyEqual(item, expected))
      return false
    case '==':
      return looselyEqual(actual, expected)
    case '!=':
      return !looselyEqual(actual, expected)
    default: {
      if (typeof expected === 'number') {
        const a =
          typeof actual === 'number'
            ? actual
            : typeof actual === 'string' && actual.trim() !== ''
              ? Number(actual)
              : Number.NaN
        return !Number.isNaN(a) && compare(a, expected, predicate.operator)
      }
      // A non-numeric literal compares as a string (ISO times sort correctly that way).
      if (typeof actual !== 'string' || typeof expected !== 'string') return false
      return compare(actual, expected, predicate.operator)
    }
  }
}

function compare<T extends number | string>(a: T, b: T, operator: Operator): boolean {
  switch (operator) {
    case '>':
      return a > b
    case '>=':
      return a >= b
    case '<':
      return a < b
    case '<=':
      return a <= b
    default:
      return false
  }
}

function looselyEqual(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true
  if (actual === undefined || actual === null || expected === null) return actual === expected
  if (typeof actual === 'number' || typeof expected === 'number') return Number(actual) === Number(expected)
  return String(actual) === String(expected)
}

/** True when the event passes every filter given. */
export function matches(filter: RecordFilter, event: FilterableEvent): boolean {
  if (filter.keys?.length) {
    const key =
      event.key === undefined || event.key === null
        ? ''
        : typeof event.key === 'string'
          ? event.key
          : JSON.stringify(event.key)
    if (!filter.keys.includes(key)) return false
  }
  if (filter.types?.length && !filter.types.includes(event.type ?? '')) return false
  if (filter.where) for (const predicate of filter.where) if (!evaluate(predicate, event)) return false
  return true
}

/** A filter that cannot have matched: its path (or the type) was in no record read. */
export interface FilterNotice {
  /** `--where 'data.amount > 5'`, `--type`. */
  filter: string
  /** What was missing: `data.amount`, `a type`. */
  missing: string
  /** Where the fields below were seen: `payload`, or '' for the top level. */
  under: string
  fields: string[]
}

const MAX_FIELDS = 20

/**
 * Watches the decoded records a filter judges, to tell afterwards which `--where` paths and which
 * `--type` were never present at all (a filter on `data.amount` when the payload is `payload.…`),
 * with the fields that were there instead. Stops looking at a path once it has been seen.
 */
export function createFilterCoverage(filter: RecordFilter) {
  // `!=` holds where the path is absent: it matches, so it is not watched.
  const pending = (filter.where ?? [])
    .filter((predicate) => predicate.operator !== '!=')
    .map((predicate) => ({
      predicate,
      fields: new Set<string>(),
      under: [] as string[],
    }))
  let typePending = Boolean(filter.types?.length)
  const valueFields = new Set<string>()
  const addKeys = (target: Set<string>, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return
    for (const key of Object.keys(value)) if (target.size < MAX_FIELDS) target.add(key)
  }
  return {
    observe(event: FilterableEvent): void {
      if (typePending) {
        if (event.type !== undefined && event.type !== null) typePending = false
        else addKeys(valueFields, event.value)
      }
      for (let i = pending.length - 1; i >= 0; i--) {
        const entry = pending[i]
        let current: unknown = entry.predicate.root === 'value' ? event.value : event
        let depth = 0
        for (const part of entry.predicate.path) {
          const next =
            current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[part] : undefined
          if (next === undefined) break
          current = next
          depth++
        }
        if (depth === entry.predicate.path.length) {
          pending.splice(i, 1)
          continue
        }
        // The deepest place reached over all records is the most telling one.
        if (depth > entry.under.length || entry.fields.size === 0) {
          if (depth > entry.under.length) entry.fields.clear()
          entry.under = entry.predicate.path.slice(0, depth)
          addKeys(entry.fields, current)
        } else if (depth === entry.under.length) addKeys(entry.fields, current)
      }
    },
    notices(): FilterNotice[] {
      const notices: FilterNotice[] = pending.map(({ predicate, fields, under }) => ({
        filter: `--where '${predicate.source}'`,
        missing: `${predicate.root === 'value' ? '$.' : ''}${predicate.path.join('.')}`,
        under: `${predicate.root === 'value' ? '$' : ''}${predicate.root === 'value' && under.length ? '.' : ''}${under.join('.')}`,
        fields: [...fields].sort(),
      }))
      if (typePending) {
        notices.push({ filter: '--type', missing: 'a type', under: '$', fields: [...valueFields].sort() })
      }
      return notices
    },
  }
}

export type FilterCoverage = ReturnType<typeof createFilterCoverage>
