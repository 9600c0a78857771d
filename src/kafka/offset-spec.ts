/**
 * The one grammar for where a read starts (`--from`) and where it stops (`--until`). Flags parse
 * their text here once, into a value; `resolveRanges` (src/kafka/log-reader.ts) turns that value
 * into offsets per partition against the broker. Pure: no I/O, `now` is a parameter.
 *
 *   start: beginning | end | <offset> | -<n> | <ISO-8601 time> | <duration ago> | s@<epoch ms>
 *   end:   end | <offset> | <ISO-8601 time> | <duration ago> | e@<epoch ms>
 *
 * Offsets are absolute per partition; `-<n>` is n records before each partition's end (kcat's
 * meaning: fewer on compacted topics, where offsets have gaps). An end offset is exclusive: the
 * read stops before it. Times resolve through the broker's offsets-by-timestamp (the first record
 * at or after the time); a time without a zone is local time, also for a bare date.
 */
import { parseDuration } from '../duration.js'
import { UsageError } from '../errors.js'

export type StartSpec =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: number }
  /** `n` records before the end of each partition. */
  | { kind: 'before-end'; count: number }
  /** The first record whose timestamp is at or after `timestamp` (epoch ms). */
  | { kind: 'time'; timestamp: number }

export type EndSpec =
  | { kind: 'end' }
  /** Exclusive: the read stops before this offset. */
  | { kind: 'offset'; offset: number }
  /** Exclusive: the read stops before the first record at or after `timestamp` (epoch ms). */
  | { kind: 'time'; timestamp: number }

export interface SpecParseOptions {
  /** The flag the text came from, named in error messages. */
  flag?: string
  /** The clock durations count back from (epoch ms). */
  now?: number
}

export const startSpecForms =
  'beginning, end, <offset>, -<n> (n before the end), an ISO-8601 time (2024-05-01T10:00:00Z), ' +
  'a duration ago (15m, 2h, 1.5d, 1h30m) or s@<epoch ms>'

export const endSpecForms =
  'end, <offset> (exclusive), an ISO-8601 time (2024-05-01T10:00:00Z), a duration ago (15m, 2h, 1d) or e@<epoch ms>'

export function parseStartSpec(text: string, options: SpecParseOptions = {}): StartSpec {
  const flag = options.flag ?? '--from'
  const value = text.trim()
  const lower = value.toLowerCase()
  if (lower === 'beginning' || lower === 'earliest' || lower === 'oldest') return { kind: 'beginning' }
  if (lower === 'end' || lower === 'latest' || lower === 'newest') return { kind: 'end' }
  if (/^\d+$/.test(value)) return { kind: 'offset', offset: safeInteger(value, flag, text, 'start', startSpecForms) }
  if (/^-\d+$/.test(value)) {
    const count = safeInteger(value.slice(1), flag, text, 'start', startSpecForms)
    if (count === 0) return { kind: 'end' }
    return { kind: 'before-end', count }
  }
  const epoch = /^s@(\d+)$/i.exec(value)
  if (epoch) return { kind: 'time', timestamp: safeInteger(epoch[1], flag, text, 'start', startSpecForms) }
  const timestamp = parseTime(value, options.now ?? Date.now())
  if (timestamp !== undefined) return { kind: 'time', timestamp }
  throw invalid(flag, text, 'start', startSpecForms)
}

export function parseEndSpec(text: string, options: SpecParseOptions = {}): EndSpec {
  const flag = options.flag ?? '--until'
  const value = text.trim()
  const lower = value.toLowerCase()
  if (lower === 'end' || lower === 'latest') return { kind: 'end' }
  if (/^\d+$/.test(value)) return { kind: 'offset', offset: safeInteger(value, flag, text, 'end', endSpecForms) }
  const epoch = /^e@(\d+)$/i.exec(value)
  if (epoch) return { kind: 'time', timestamp: safeInteger(epoch[1], flag, text, 'end', endSpecForms) }
  const timestamp = parseTime(value, options.now ?? Date.now())
  if (timestamp !== undefined) return { kind: 'time', timestamp }
  throw invalid(flag, text, 'end', endSpecForms)
}

/**
 * Refuses a range that ends before it starts, when both ends are of one kind (two offsets, two
 * times; other pairs resolve per partition and cannot be compared here). An equal pair is an empty
 * range, which is allowed (`--until` is exclusive).
 */
export function checkRange(
  from: StartSpec | undefined,
  until: EndSpec | undefined,
  flags: { from: string; until: string } = { from: '--from', until: '--until' },
): void {
  if (!from || !until || from.kind !== until.kind) return
  const before =
    (from.kind === 'offset' && until.kind === 'offset' && until.offset < from.offset) ||
    (from.kind === 'time' && until.kind === 'time' && until.timestamp < from.timestamp)
  if (!before) return
  throw new UsageError(`${flags.until} ${formatSpec(until)} is before ${flags.from} ${formatSpec(from)}`, {
    code: 'EMPTY_RANGE',
    suggestion: `${flags.until} is where the read stops (exclusive): give a later one, or swap them`,
    where: { from: formatSpec(from), until: formatSpec(until) },
  })
}

/** The spec back as text in the grammar above (times as UTC ISO-8601), for summaries and messages. */
export function formatSpec(spec: StartSpec | EndSpec): string {
  switch (spec.kind) {
    case 'beginning':
    case 'end':
      return spec.kind
    case 'offset':
      return String(spec.offset)
    case 'before-end':
      return `-${spec.count}`
    case 'time':
      return new Date(spec.timestamp).toISOString()
  }
}

/** A duration ago (`15m`, `1h30m`, `1.5h`, optionally followed by ` ago`) → milliseconds, else undefined. */
function parseDurationAgo(text: string): number | undefined {
  return parseDuration(text.trim().replace(/\s+ago$/i, ''))
}

const isoTime =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i

function parseTime(value: string, now: number): number | undefined {
  const duration = parseDurationAgo(value)
  if (duration !== undefined) return now - duration
  const match = isoTime.exec(value)
  if (!match) return undefined
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3))
  const fields = [
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    ms,
  ] as const
  // Reject impossible dates (2024-02-30) instead of letting Date roll them over.
  const check = new Date(Date.UTC(...fields))
  if (
    check.getUTCFullYear() !== fields[0] ||
    check.getUTCMonth() !== fields[1] ||
    check.getUTCDate() !== fields[2] ||
    check.getUTCHours() !== fields[3] ||
    check.getUTCMinutes() !== fields[4] ||
    check.getUTCSeconds() !== fields[5]
  ) {
    return undefined
  }
  if (zone === undefined) return new Date(...fields).getTime()
  if (zone.toUpperCase() === 'Z') return check.getTime()
  const sign = zone.startsWith('-') ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')
  return check.getTime() - sign * offsetMinutes * 60_000
}

type SpecKind = 'start' | 'end'

function safeInteger(digits: string, flag: string, text: string, kind: SpecKind, forms: string): number {
  const value = Number(digits)
  if (!Number.isSafeInteger(value)) throw invalid(flag, text, kind, forms, `${digits} is beyond 2^53`)
  return value
}

function invalid(flag: string, text: string, kind: SpecKind, forms: string, reason?: string): UsageError {
  return new UsageError(`${flag} "${text}" is not a valid ${kind} position${reason ? ` (${reason})` : ''}`, {
    code: 'INVALID_OFFSET_SPEC',
    suggestion: `${flag} accepts ${forms}`,
    where: { flag, value: text },
  })
}
