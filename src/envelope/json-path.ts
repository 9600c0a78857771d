/**
 * Simple JSON paths: `$`, `$.a.b`, `$.items[0]`, `$['odd key']`, `$["x"].y`. No wildcards, no
 * recursion, no filters: a path names one place, so it can be both read and written. A path is
 * parsed once and compiled to an accessor; records never see the text.
 */

export type PathSegment = string | number

/** Parses the path text; returns the reason it is not a simple path as a string. */
export function parseJsonPath(text: string): PathSegment[] | string {
  if (!text.startsWith('$')) return 'a path starts with $'
  const segments: PathSegment[] = []
  let i = 1
  while (i < text.length) {
    const c = text[i]
    if (c === '.') {
      i++
      if (text[i] === '.') return 'recursive descent (..) is not supported: name each step'
      const start = i
      while (i < text.length && !/[.[\]\s|'"]/.test(text[i])) i++
      if (i === start) return `a name is missing after "." at position ${start}`
      const name = text.slice(start, i)
      if (name === '*') return 'wildcards are not supported: a locator names one place'
      segments.push(name)
    } else if (c === '[') {
      i++
      const quote = text[i]
      if (quote === "'" || quote === '"') {
        i++
        let name = ''
        while (i < text.length && text[i] !== quote) {
          if (text[i] === '\\' && i + 1 < text.length) i++
          name += text[i]
          i++
        }
        if (text[i] !== quote) return `unterminated quoted name in [${quote}…]`
        i++
        segments.push(name)
      } else {
        const start = i
        while (i < text.length && /[0-9]/.test(text[i])) i++
        if (i === start) return `expected an index or a quoted name after "[" at position ${start}`
        segments.push(Number(text.slice(start, i)))
      }
      if (text[i] !== ']') return `expected "]" at position ${i}`
      i++
    } else {
      return `unexpected "${c}" at position ${i}`
    }
  }
  return segments
}

export function formatJsonPath(segments: readonly PathSegment[]): string {
  return `$${segments
    .map((s) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$-]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`))
    .join('')}`
}

type Accessor = (value: unknown) => unknown
type Step = (value: unknown, segment: PathSegment) => unknown

/** The value at `segments` of `value` (undefined where a step finds nothing), without compiling a reader. */
export function readJsonPath(value: unknown, segments: readonly PathSegment[]): unknown {
  let current = value
  for (const segment of segments) current = step(current, segment)
  return current
}

function step(value: unknown, segment: PathSegment): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<PathSegment, unknown>)[segment] : undefined
}

/**
 * A step that matches names whatever their case (`$.type` finds `TYPE`, for serdes that upper-case
 * names, e.g. ksqlDB's): the exact spelling first, then the first own name equal ignoring case.
 */
function stepIgnoringCase(value: unknown, segment: PathSegment): unknown {
  if (typeof value !== 'object' || value === null) return undefined
  const object = value as Record<PathSegment, unknown>
  const exact = object[segment]
  if (exact !== undefined || typeof segment !== 'string' || Array.isArray(value)) return exact
  const wanted = segment.toLowerCase()
  for (const name in object) {
    if (Object.hasOwn(object, name) && name.toLowerCase() === wanted) return object[name]
  }
  return undefined
}

export interface JsonPathOptions {
  /** Match object names ignoring case. */
  ignoreCase?: boolean
}

/** A reader for the path, unrolled for the short paths envelopes use. */
export function compileJsonPath(segments: readonly PathSegment[], options: JsonPathOptions = {}): Accessor {
  const at: Step = options.ignoreCase ? stepIgnoringCase : step
  switch (segments.length) {
    case 0:
      return (value) => value
    case 1: {
      const [a] = segments
      return (value) => at(value, a)
    }
    case 2: {
      const [a, b] = segments
      return (value) => at(at(value, a), b)
    }
    case 3: {
      const [a, b, c] = segments
      return (value) => at(at(at(value, a), b), c)
    }
    default:
      return (value) => {
        let current = value
        for (const segment of segments) current = at(current, segment)
        return current
      }
  }
}

export class JsonPathWriteError extends Error {}

/**
 * Writes `value` at the path inside `root` (created when undefined), making the objects and arrays
 * on the way; returns the root. Fails when the way is blocked by a non-object.
 */
export function setJsonPath(root: unknown, segments: readonly PathSegment[], value: unknown): unknown {
  if (segments.length === 0) return value
  const top = root ?? containerFor(segments[0])
  let current = top
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]
    if (typeof current !== 'object' || current === null) {
      throw new JsonPathWriteError(`${formatJsonPath(segments.slice(0, i))} is not an object`)
    }
    const container = current as Record<PathSegment, unknown>
    if (i === segments.length - 1) {
      setOwn(container, segment, value)
    } else {
      if (container[segment] === undefined || container[segment] === null) {
        setOwn(container, segment, containerFor(segments[i + 1]))
      }
      current = container[segment]
    }
  }
  return top
}

function containerFor(next: PathSegment): unknown {
  return typeof next === 'number' ? [] : {}
}

function setOwn(target: Record<PathSegment, unknown>, key: PathSegment, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  } else target[key] = value
}
