/**
 * `es snapshots` output: a table page for people, or every key streamed as JSON (one document,
 * one entry per line) or NDJSON (one entry per line), written as it is decoded, with backpressure,
 * so that no output is ever built whole in memory.
 */
import type { ChalkInstance } from 'chalk'
import { describeFailureGroup } from '../codecs/failure-summary.js'
import type { SnapshotEntry, SnapshotResult, SnapshotTable, SnapshotTotals } from '../snapshots/latest.js'
import { escapeControl } from './escape.js'
import { toJsonSafe } from './records.js'
import { cell, renderGrid } from './table.js'

export type SnapshotFormat = 'table' | 'ndjson' | 'json'
export const SNAPSHOT_FORMATS: SnapshotFormat[] = ['table', 'ndjson']
/** Keys in the table's page unless `--limit` says otherwise. */
export const TABLE_PAGE = 1000

export interface SnapshotSink {
  paint: ChalkInstance
  data(line: string): void
  drained(): Promise<void> | undefined
  info(line: string): void
  warn(line: string): void
}

/** An entry as JSON: `value`, or `error` and `raw` when it cannot be decoded (the shape of `es tail`). */
export function snapshotJson(entry: SnapshotEntry): Record<string, unknown> {
  const out: Record<string, unknown> = { key: entry.key }
  if (entry.keyError !== undefined) out.keyError = entry.keyError
  if (entry.error !== undefined) {
    out.error = entry.error
    out.raw = entry.raw ?? null
  } else {
    out.value = toJsonSafe(entry.value)
  }
  out.topic = entry.topic
  out.partition = entry.partition
  out.offset = entry.offset
  out.timestamp = entry.timestamp
  return out
}

/**
 * Streams the table in `format`: at most `limit` entries shown (all counted), then the summary on
 * stderr. Returns the totals (complete).
 */
export async function writeSnapshotTable(
  table: SnapshotTable,
  sink: SnapshotSink,
  options: { format: SnapshotFormat; limit?: number },
): Promise<SnapshotTotals> {
  const { format } = options
  const limit = options.limit ?? (format === 'table' ? TABLE_PAGE : Number.POSITIVE_INFINITY)
  const page: SnapshotEntry[] = []
  let shown = 0
  let first = true
  const { totals } = table
  // Lines go out in chunks of about 64 kB: one write per line would cost a system call each.
  let chunk: string[] = []
  let chunkLength = 0
  const flush = async () => {
    if (chunk.length === 0) return
    sink.data(chunk.join('\n'))
    chunk = []
    chunkLength = 0
    const drained = sink.drained()
    if (drained) await drained
  }
  if (format === 'json') sink.data(`{"topics":${JSON.stringify(totals.topics)},"entries":[`)
  for await (const entry of table.entries()) {
    if (shown >= limit) continue
    shown++
    if (format === 'table') page.push(entry)
    else {
      const line = JSON.stringify(snapshotJson(entry))
      chunk.push(format === 'json' && !first ? `,${line}` : line)
      chunkLength += line.length
      first = false
      if (chunkLength >= 65_536) await flush()
    }
  }
  await flush()
  if (format === 'json') {
    const failures = totals.failures.list()
    sink.data(
      `],"records":${totals.records},"keys":${totals.keys},"deleted":${totals.deleted},"undecodable":${totals.undecodable},"failures":${JSON.stringify(failures)}}`,
    )
  }
  if (format === 'table' && page.length > 0) sink.data(renderSnapshots(sink.paint, page))
  const n = (count: number) => count.toLocaleString('en-US')
  const of = shown < totals.keys ? `${n(shown)} of ${n(totals.keys)}` : n(totals.keys)
  sink.info(
    `${of} keys shown${shown < totals.keys ? ' (the first in key order)' : ''} from ${n(totals.records)} records in ${totals.topics.join(', ')}${totals.deleted ? `; ${n(totals.deleted)} deleted (tombstones)` : ''}${totals.undecodable ? `; ${n(totals.undecodable)} undecodable` : ''}`,
  )
  if (shown < totals.keys) {
    sink.info(
      `${n(totals.keys - shown)} keys left out: see all with -o ndjson (one key per line) or --json, or more here with --limit ${totals.keys}`,
    )
  }
  warnUndecodable(sink, totals.undecodable, totals.failures.list().map(describeFailureGroup))
  return totals
}

/**
 * One key's snapshot (its value, or its raw text when undecodable) or, with `history`, its versions
 * as a table, then a summary line; under --json only the warnings about undecodable values.
 */
export function showKeySnapshots(
  sink: Omit<SnapshotSink, 'drained'>,
  result: SnapshotResult,
  options: { history: boolean; json: boolean },
): void {
  const { history } = options
  if (!options.json) {
    const [entry] = result.entries
    if (history) sink.data(renderSnapshots(sink.paint, result.entries))
    else if (entry.error !== undefined) sink.data(entry.raw ?? '')
    else sink.data(JSON.stringify(entry.value, null, 2))
    sink.info(
      `${result.entries.length} ${history ? 'versions' : 'snapshot'} from ${result.records} records in ${result.topics.join(', ')}${result.undecodable ? `; ${result.undecodable} undecodable` : ''}`,
    )
  }
  warnUndecodable(
    sink,
    result.undecodable,
    result.entries.filter((e) => e.error).map((e) => `${e.topic}/${e.partition}@${e.offset}: ${e.error}`),
  )
}

/** Undecodable entries: a warning per group of failures (the command then exits 5). */
export function warnUndecodable(sink: Pick<SnapshotSink, 'warn'>, undecodable: number, groups: string[]): void {
  if (undecodable === 0) return
  sink.warn(
    `${undecodable.toLocaleString('en-US')} ${undecodable === 1 ? 'value is' : 'values are'} undecodable (shown as undecodable with the error; exit 5)`,
  )
  for (const group of groups) sink.warn(group)
}

/**
 * Entries as a table: key, one column per top-level field of object values (the union over the
 * rows, first 8, the rest in `…`) or one `value` column, then partition@offset and time. A
 * tombstone shows `(tombstone)`, an undecodable value `undecodable: <error>`, a missing key `(no key)`.
 */
export function renderSnapshots(paint: ChalkInstance, entries: SnapshotEntry[]): string {
  const decoded = entries.filter((e) => e.error === undefined && e.value !== null).map((e) => e.value)
  const objects = decoded.length > 0 && decoded.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))
  const fields: string[] = []
  if (objects) {
    for (const value of decoded) {
      for (const field of Object.keys(value as object)) if (!fields.includes(field)) fields.push(field)
    }
  }
  const max = 8
  const shownFields = objects ? fields.slice(0, max) : ['value']
  const overflow = fields.length > max
  const head = ['key', ...shownFields, ...(overflow ? ['…'] : []), 'at', 'time']
  const rows = entries.map((entry) => {
    const key =
      entry.key === null
        ? paint.dim('(no key)')
        : entry.keyError !== undefined
          ? `${escapeControl(entry.key)} ${paint.red(`(undecodable key: ${escapeControl(entry.keyError)})`)}`
          : escapeControl(entry.key)
    const cells: string[] = [key]
    const width = shownFields.length + (overflow ? 1 : 0)
    if (entry.error !== undefined) {
      cells.push(paint.red(`undecodable: ${escapeControl(entry.error)}`), ...Array(width - 1).fill(''))
    } else if (entry.value === null) {
      cells.push(paint.red('(tombstone)'), ...Array(width - 1).fill(''))
    } else if (objects) {
      const record = entry.value as Record<string, unknown>
      for (const field of shownFields) cells.push(cell(record[field]))
      if (overflow) {
        const rest = Object.fromEntries(Object.entries(record).filter(([f]) => !shownFields.includes(f)))
        cells.push(Object.keys(rest).length ? cell(rest) : '')
      }
    } else {
      cells.push(cell(entry.value))
    }
    cells.push(
      paint.dim(`${entry.partition}@${entry.offset}`),
      paint.dim(entry.timestamp.replace('T', ' ').replace(/\.\d+Z$/, '')),
    )
    return cells
  })
  return renderGrid(paint, head, rows)
}
