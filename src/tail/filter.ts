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
  const match = /^\s*(\S+?)\s*(==|!=|>=|<=|>|<|~|\s+contains\s+|\s+exists\s*$)\s*(.*)$/.exec(expression)
  const usage = () =>
    new UsageError(`--where "${expression}" is not "<path> <op> <value>"`, {
      code: 'BAD_PREDICATE',
      suggestion: `e.g. --where 'payload.amount > 100'; operators: ${OPERATORS.join(' ')}`,
    })
  if (!match) throw usage()
  const [, rawPath, rawOperator, rawValue] = match
  const operator = rawOperator.trim() as Operator
  if (operator !== 'exists' && rawValue.trim() === '') throw usage()
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
