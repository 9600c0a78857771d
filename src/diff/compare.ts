/**
 * Replayed state against read-model rows, per aggregate: missing in the read model, extra in the
 * read model, or fields that differ. Pure: no I/O, so every rule here has a unit test.
 *
 * Matching fields to columns: an explicit `columns` mapping first, else the column whose name
 * equals the field's once case, `_` and `-` are ignored (`updatedAt` ↔ `updated_at`). A state
 * field no column matches anywhere in the read model is not compared, and listed once as unmapped.
 * Columns no state field maps to (a `created_at` the database fills in) are not compared either.
 *
 * Values are compared as a reader of both sides would: numbers against numeric text (PostgreSQL
 * NUMERIC and BIGINT arrive as text) within `tolerance`; epoch milliseconds against ISO-8601 text
 * or Date values (and two date texts by the instant they name); booleans against 0/1 (SQLite has
 * no booleans); objects and arrays against JSON text, recursively; null and absent alike.
 *
 * Date text without a zone (SQLite text, PostgreSQL `timestamp`) names a wall-clock time: it is
 * read in `timeZone` (the zone the service wrote it in; default UTC), never in the zone of the
 * machine `es` runs on, so the answer does not depend on the operator's TZ.
 */
import { toTimestamp } from '../envelope/envelope-decoder.js'
import { toNumber } from '../envelope/locator.js'
import { InternalError } from '../errors.js'
import type { RowScan } from '../read-models/read-model.js'
import { normalizeName, type Row, rowDecodeError } from '../read-models/row.js'
import { compareIds } from '../stores/state-store.js'

export interface CompareOptions {
  /** Fields (or columns) not compared, matched like field names. */
  ignore?: readonly string[]
  /** Numbers (and instants in ms) this close are equal. Default 0. */
  tolerance?: number
  /** State field → read-model column, where names do not match by themselves. */
  columns?: Readonly<Record<string, string>>
  /**
   * The field holding the aggregate's version: a row whose version is above the replayed one was
   * written from events after the replay's end (the projector is ahead), which is not drift.
   * Default `version`; null turns the check off.
   */
  versionField?: string | null
  /** Keep at most this many drifted aggregates' details (all are counted). Default 20. */
  limit?: number
  /** IANA zone in which date text without a zone is read (e.g. `Europe/Istanbul`). Default UTC. */
  timeZone?: string
}

export interface FieldDifference {
  field: string
  /** The read-model column compared with, null when the row lacks it. */
  column: string | null
  expected: unknown
  actual: unknown
}

export type AggregateDrift =
  | { kind: 'missing'; aggregateId: string; expected: unknown }
  | { kind: 'extra'; aggregateId: string; actual: unknown }
  | { kind: 'changed'; aggregateId: string; fields: FieldDifference[] }
  /** The read model holds a record for the id that cannot be decoded: not compared. */
  | { kind: 'undecodable'; aggregateId: string; error: string; expected?: unknown; raw: unknown }

export interface DiffCounts {
  /** Aggregates in the replayed state. */
  replayed: number
  /** Rows in the read model (null when it cannot be listed: only replayed ids were looked up). */
  readModel: number | null
  /** Aggregates present on both sides and compared field by field. */
  compared: number
  missing: number
  extra: number
  changed: number
  /** Rows with a higher version than the replay reached: written after its end, not drift. */
  ahead: number
  /** Read-model records that could not be decoded (drift: they cannot be compared). */
  undecodable: number
}

export interface DiffResult {
  counts: DiffCounts
  drift: boolean
  /** Drifted aggregates in id order, at most `limit`. */
  details: AggregateDrift[]
  /** Aggregate ids the read model holds at a newer version (at most `limit`). */
  aheadIds: string[]
  /** State fields without a column in the read model (not compared). */
  unmapped: string[]
}

/**
 * The tally of one diff: fed aggregates in id order (replayed only, read model only, or both),
 * it counts and keeps the first `limit` drifted ones.
 */
class DriftTally {
  readonly counts: DiffCounts
  private readonly limit: number
  private readonly ignored: Set<string>
  private readonly tolerance: number
  private readonly timeZone: string
  private readonly versionField: string | null
  private readonly drifted: AggregateDrift[] = []
  private readonly aheadIds: string[] = []
  private readonly unmapped = new Set<string>()

  constructor(
    private readonly options: CompareOptions,
    private readonly columnsByName: Map<string, string>,
    listed: boolean,
  ) {
    this.limit = options.limit ?? 20
    this.ignored = new Set((options.ignore ?? []).map(normalizeName))
    this.tolerance = options.tolerance ?? 0
    this.timeZone = options.timeZone ?? 'UTC'
    this.versionField = options.versionField === undefined ? 'version' : options.versionField
    this.counts = {
      replayed: 0,
      readModel: listed ? 0 : null,
      compared: 0,
      missing: 0,
      extra: 0,
      changed: 0,
      ahead: 0,
      undecodable: 0,
    }
  }

  /** Columns seen in rows fetched by id (read models that cannot be listed). */
  learnColumns(row: Row): void {
    for (const column of Object.keys(row)) {
      const name = normalizeName(column)
      if (!this.columnsByName.has(name)) this.columnsByName.set(name, column)
    }
  }

  missing(id: string, state: unknown): void {
    this.counts.replayed++
    this.counts.missing++
    this.keep({ kind: 'missing', aggregateId: id, expected: state })
  }

  extra(id: string, row: Row): void {
    if (this.counts.readModel !== null) this.counts.readModel++
    if (this.undecodable(id, undefined, row)) return
    this.counts.extra++
    this.keep({ kind: 'extra', aggregateId: id, actual: row })
  }

  both(id: string, state: unknown, row: Row): void {
    this.counts.replayed++
    if (this.counts.readModel !== null) this.counts.readModel++
    if (this.undecodable(id, state, row)) return
    this.counts.compared++
    const { columns } = this.options
    const fields = asFields(state)
    if (this.versionField !== null && isAhead(fields, row, this.versionField, columns, this.columnsByName)) {
      this.counts.ahead++
      if (this.aheadIds.length < this.limit) this.aheadIds.push(id)
      return
    }
    const differences: FieldDifference[] = []
    for (const field of Object.keys(fields)) {
      if (this.ignored.has(normalizeName(field))) continue
      const column = columnFor(field, columns, this.columnsByName)
      if (column === undefined) {
        this.unmapped.add(field)
        continue
      }
      if (this.ignored.has(normalizeName(column))) continue
      const present = Object.hasOwn(row, column)
      const actual = present ? row[column] : undefined
      if (!sameValue(fields[field], actual, this.tolerance, this.timeZone)) {
        differences.push({ field, column: present ? column : null, expected: fields[field], actual })
      }
    }
    if (differences.length > 0) {
      this.counts.changed++
      this.keep({ kind: 'changed', aggregateId: id, fields: differences })
    }
  }

  result(): DiffResult {
    const { counts } = this
    return {
      counts,
      drift: counts.missing + counts.extra + counts.changed + counts.undecodable > 0,
      details: this.drifted,
      aheadIds: this.aheadIds,
      unmapped: [...this.unmapped].sort(),
    }
  }

  /** True (and counted, kept) when the row stands for a record that could not be decoded. */
  private undecodable(id: string, state: unknown, row: Row): boolean {
    const error = rowDecodeError(row)
    if (error === undefined) return false
    this.counts.undecodable++
    this.keep({
      kind: 'undecodable',
      aggregateId: id,
      error,
      ...(state === undefined ? {} : { expected: state }),
      raw: row.raw,
    })
    return true
  }

  private keep(drift: AggregateDrift): void {
    if (this.drifted.length < this.limit) this.drifted.push(drift)
  }
}

/** Normalized name → column name (an exact spelling first: `id` and `ID` in one table keep the first). */
function columnsByName(columns: Iterable<string>): Map<string, string> {
  const byName = new Map<string, string>()
  for (const column of columns) {
    const name = normalizeName(column)
    if (!byName.has(name)) byName.set(name, column)
  }
  return byName
}

/**
 * Compares replayed states with read-model rows held in memory. `rows` holds the whole read model
 * when it could be listed (`listed`), else only the rows of replayed ids that exist (extra rows are
 * then unknown).
 */
export function diffStates(
  states: Iterable<[string, unknown]>,
  rows: ReadonlyMap<string, Row>,
  listed: boolean,
  options: CompareOptions = {},
): DiffResult {
  const columns = new Set<string>()
  for (const row of rows.values()) for (const column of Object.keys(row)) columns.add(column)
  const tally = new DriftTally(options, columnsByName(columns), listed)
  const sortedStates = [...states].sort(([a], [b]) => compareIds(a, b))
  if (!listed) {
    for (const [id, state] of sortedStates) {
      const row = rows.get(id)
      if (row === undefined) tally.missing(id, state)
      else tally.both(id, state, row)
    }
    return tally.result()
  }
  const sortedRows = [...rows].sort(([a], [b]) => compareIds(a, b))
  mergeJoin(sortedStates[Symbol.iterator](), sortedRows[Symbol.iterator](), tally)
  return tally.result()
}

/** The two sorted streams, walked together (rows synchronously: see diffSorted for the async form). */
function mergeJoin(states: Iterator<[string, unknown]>, rows: Iterator<[string, Row]>, tally: DriftTally): void {
  let s = states.next()
  let r = rows.next()
  while (!s.done || !r.done) {
    const order = s.done ? 1 : r.done ? -1 : compareIds(s.value[0], r.value[0])
    if (order < 0) {
      tally.missing(s.value![0], s.value![1])
      s = states.next()
    } else if (order > 0) {
      tally.extra(r.value![0], r.value![1])
      r = rows.next()
    } else {
      tally.both(s.value[0], s.value[1], r.value[1])
      s = states.next()
      r = rows.next()
    }
  }
}

/** Ids per lookup when the read model cannot be listed. */
const LOOKUP_IDS = 500

/**
 * Compares replayed states streamed in id order with a read model: with its scan (rows in id
 * order, paged) walked alongside, or, when it cannot be listed, by looking the states' ids up
 * LOOKUP_IDS at a time. Neither side is held in memory. `label` names the read model if its rows
 * arrive out of order (a database whose collation es did not expect): an error, never a wrong diff.
 */
export async function diffSorted(
  states: Iterable<[string, unknown]>,
  readModel: { scan: RowScan | undefined; get: (ids: readonly string[]) => Promise<ReadonlyMap<string, Row>> },
  label: string,
  options: CompareOptions = {},
): Promise<DiffResult> {
  const { scan } = readModel
  const tally = new DriftTally(options, columnsByName(scan?.columns ?? []), scan !== undefined)
  if (scan === undefined) {
    let chunk: Array<[string, unknown]> = []
    const flush = async () => {
      const found = await readModel.get(chunk.map(([id]) => id))
      for (const row of found.values()) tally.learnColumns(row)
      for (const [id, state] of chunk) {
        const row = found.get(id)
        if (row === undefined) tally.missing(id, state)
        else tally.both(id, state, row)
      }
      chunk = []
    }
    for (const entry of states) {
      chunk.push(entry)
      if (chunk.length >= LOOKUP_IDS) await flush()
    }
    await flush()
    return tally.result()
  }
  const stateIterator = states[Symbol.iterator]()
  const rowIterator = scan.rows[Symbol.asyncIterator]()
  let s = stateIterator.next()
  let r = await rowIterator.next()
  const nextRow = async () => {
    const previousRow = r.value![0]
    r = await rowIterator.next()
    if (!r.done && compareIds(previousRow, r.value[0]) >= 0) {
      throw new InternalError(
        `${label} gave its rows out of id order ("${previousRow}" before "${r.value[0]}"): cannot compare them with the replay`,
        { code: 'READ_MODEL_ORDER', suggestion: 'report this with the --verbose output and the database collation' },
      )
    }
  }
  while (!s.done || !r.done) {
    const order = s.done ? 1 : r.done ? -1 : compareIds(s.value[0], r.value[0])
    if (order < 0) {
      tally.missing(s.value![0], s.value![1])
      s = stateIterator.next()
    } else if (order > 0) {
      tally.extra(r.value![0], r.value![1])
      await nextRow()
    } else {
      tally.both(s.value[0], s.value[1], r.value[1])
      s = stateIterator.next()
      await nextRow()
    }
  }
  return tally.result()
}

/** A state as fields: objects as they are, anything else (a count, a string) as `value`. */
function asFields(state: unknown): Record<string, unknown> {
  return state !== null && typeof state === 'object' && !Array.isArray(state)
    ? (state as Record<string, unknown>)
    : { value: state }
}

function columnFor(
  field: string,
  mapping: Readonly<Record<string, string>> | undefined,
  columnsByName: Map<string, string>,
): string | undefined {
  const mapped = mapping?.[field]
  if (mapped !== undefined) return mapped
  return columnsByName.get(normalizeName(field))
}

function isAhead(
  state: Record<string, unknown>,
  row: Row,
  versionField: string,
  mapping: Readonly<Record<string, string>> | undefined,
  columnsByName: Map<string, string>,
): boolean {
  const column = columnFor(versionField, mapping, columnsByName)
  if (column === undefined || !(versionField in state)) return false
  const replayed = toNumber(state[versionField])
  const stored = toNumber(row[column])
  return replayed !== undefined && stored !== undefined && stored > replayed
}

const DATE_TEXT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/
/** Date text without a zone: `2026-11-25 10:00`, `2026-11-25T10:00:00.123456`. */
const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/

/**
 * Epoch ms of a Date or of date text (`2026-11-25T10:00:00Z`, PostgreSQL's `2026-11-25 10:00:00+00`);
 * text without a zone is a wall-clock time in `timeZone`.
 */
export function toInstant(value: unknown, timeZone = 'UTC'): number | undefined {
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'string' && DATE_TEXT.test(value)) {
    const wall = WALL_CLOCK.exec(value)
    if (wall) {
      const [, year, month, day, hour, minute, second, fraction] = wall
      const ms = Date.UTC(
        Number(year),
        Number(month) - 1,
        Number(day),
        Number(hour),
        Number(minute),
        Number(second ?? 0),
        Math.floor(Number(`0.${fraction ?? 0}`) * 1000),
      )
      return Number.isNaN(ms) ? undefined : wallClockToEpoch(ms, timeZone)
    }
    // The envelope's reading of times (its fast path for `…Z` text, Date.parse for the rest).
    const ms = toTimestamp(value.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'), Number.NaN)
    return Number.isNaN(ms) ? undefined : ms
  }
  return undefined
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>()

function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  let format = zoneFormats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    zoneFormats.set(timeZone, format)
  }
  return format
}

/** Whether `timeZone` is an IANA zone name this runtime knows (`UTC`, `Asia/Tokyo`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    zoneFormat(timeZone)
    return true
  } catch {
    return false
  }
}

/** The zone's offset from UTC at `epoch`, in ms (wall clock − UTC). */
function zoneOffset(epoch: number, timeZone: string): number {
  const parts: Record<string, number> = {}
  for (const part of zoneFormat(timeZone).formatToParts(new Date(epoch))) parts[part.type] = Number(part.value)
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second)
  return wall - (epoch - (((epoch % 1000) + 1000) % 1000))
}

/**
 * The instant at which clocks in `timeZone` showed `wall` (a wall-clock time written as if it were
 * UTC epoch ms). Across a DST change the offset of the result is checked once more; a time that a
 * change skips or repeats resolves to the earlier offset, as java.time does for gaps.
 */
export function wallClockToEpoch(wall: number, timeZone: string): number {
  if (timeZone === 'UTC') return wall
  const guess = wall - zoneOffset(wall, timeZone)
  return wall - zoneOffset(guess, timeZone)
}

function withinTolerance(a: number, b: number, tolerance: number): boolean {
  return a === b || Math.abs(a - b) <= tolerance
}

/** Whether a replayed value and a read-model value say the same thing (see the module comment). */
export function sameValue(expected: unknown, actual: unknown, tolerance = 0, timeZone = 'UTC'): boolean {
  if (expected === undefined || expected === null) return actual === undefined || actual === null
  if (actual === undefined || actual === null) return false
  if (typeof expected === 'bigint') return sameValue(Number(expected), actual, tolerance, timeZone)
  if (typeof actual === 'bigint') return sameValue(expected, Number(actual), tolerance, timeZone)
  if (Buffer.isBuffer(actual)) return sameValue(expected, actual.toString('utf8'), tolerance, timeZone)

  if (typeof expected === 'number') {
    if (typeof actual === 'boolean') return expected === (actual ? 1 : 0)
    const number = toNumber(actual)
    if (number !== undefined) return withinTolerance(expected, number, tolerance)
    const instant = toInstant(actual, timeZone)
    return instant !== undefined && withinTolerance(expected, instant, tolerance)
  }
  if (typeof expected === 'boolean') {
    if (typeof actual === 'boolean') return expected === actual
    if (typeof actual === 'number') return actual === (expected ? 1 : 0)
    if (typeof actual === 'string')
      return actual.toLowerCase() === String(expected) || actual === (expected ? 't' : 'f')
    return false
  }
  if (typeof expected === 'string') {
    if (typeof actual === 'string') {
      if (expected === actual) return true
      const a = toInstant(expected, timeZone)
      const b = toInstant(actual, timeZone)
      return a !== undefined && b !== undefined && withinTolerance(a, b, tolerance)
    }
    if (actual instanceof Date) {
      const instant = toInstant(expected, timeZone)
      return instant !== undefined && withinTolerance(instant, actual.getTime(), tolerance)
    }
    if (typeof actual === 'number') {
      const number = toNumber(expected)
      return number !== undefined && withinTolerance(number, actual, tolerance)
    }
    if (typeof actual === 'boolean') return sameValue(actual, expected, tolerance, timeZone)
    return false
  }
  if (expected instanceof Date) return sameValue(expected.getTime(), actual, tolerance, timeZone)
  if (typeof expected === 'object') {
    let other = actual
    if (typeof other === 'string') {
      try {
        other = JSON.parse(other)
      } catch {
        return false
      }
    }
    if (other === null || typeof other !== 'object') return false
    if (Array.isArray(expected)) {
      if (!Array.isArray(other) || other.length !== expected.length) return false
      return expected.every((item, i) => sameValue(item, (other as unknown[])[i], tolerance, timeZone))
    }
    if (Array.isArray(other)) return false
    const a = expected as Record<string, unknown>
    const b = other as Record<string, unknown>
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const key of keys) if (!sameValue(a[key], b[key], tolerance, timeZone)) return false
    return true
  }
  return Object.is(expected, actual)
}
