/**
 * `es tail`: read records of one or more topics over a range, or follow them live, decode each
 * through the service's envelope, filter, and hand each shown record to the renderer.
 * A record that cannot be decoded is shown raw with its error, never dropped; filters that need
 * the decoded value (type, where) cannot match it, but key filters still apply: to the decoded key
 * when only the value failed (key and value are decoded apart), else to the key's bytes as text.
 */

import { type FailureGroup, FailureSummary } from '../codecs/failure-summary.js'
import { type DecodedEvent, partialDecode } from '../envelope/index.js'
import type { LogReader, PartitionRange, ReadOptions } from '../kafka/log-reader.js'
import type { EndSpec, StartSpec } from '../kafka/offset-spec.js'
import { keyRanges, type PartitionerName } from '../kafka/partitioner.js'
import { headerEntries, type KafkaRecord } from '../kafka/record.js'
import type { ShownRecord } from '../render/records.js'
import { createFilterCoverage, type FilterCoverage, type FilterNotice, matches, type RecordFilter } from './filter.js'

export interface TailRequest {
  reader: Pick<LogReader, 'resolveRanges' | 'read'>
  topics: string[]
  from: StartSpec
  /** Undefined: follow the log until `signal` aborts or `limit` is reached. */
  until?: EndSpec
  partitions?: number[]
  /** How the producer maps keys to partitions: with --key, only their partitions are read. */
  partitioner?: PartitionerName
  filter: RecordFilter
  limit?: number
  /** Synchronous except when a schema must be loaded first (then a promise). */
  decode: (record: KafkaRecord) => DecodedEvent | Promise<DecodedEvent>
  /** The value codec's decoded objects and arrays are the parsed text of the bytes (json, auto). */
  valuesAreJsonText?: boolean
  /** The writer schema a record's value names (shown as `schema`), when its codec has schemas. */
  schemaOf?: (record: KafkaRecord) => ShownRecord['schema']
  onRecord: (record: ShownRecord) => void
  /** After each batch: a promise while the output is backed up, to wait for it. */
  drained?: () => Promise<void> | undefined
  signal?: AbortSignal
  /** A follow waits out broker outages; told once when the connection is lost and once when it is back. */
  onConnection?: ReadOptions['onConnection']
}

export interface TailSummary {
  shown: number
  read: number
  undecodable: number
  /** Undecodable records that type or payload filters could not judge, so not shown (warned). */
  hiddenUndecodable: number
  /** Undecodable records by event type and writer schema, largest groups first. */
  failures: FailureGroup[]
  /** True when every bounded range was read to its end (false when stopped by --limit or a signal). */
  complete: boolean
  ranges: Array<{ topic: string; partition: number; start: number; end?: number }>
  /** `--where` paths and `--type` that no record read had at all (so they could not match). */
  notices: FilterNotice[]
  /** With --key on a known partitioner: the partitions read, and the keys no record read had. */
  keyPartitions?: {
    partitioner: PartitionerName
    narrowed: Array<{ topic: string; partition: number }>
    unseen: string[]
  }
}

export async function runTail(request: TailRequest): Promise<TailSummary> {
  const resolved: PartitionRange[] = await request.reader.resolveRanges(request.topics, {
    from: request.from,
    until: request.until,
    partitions: request.partitions,
  })
  // --key without --partition: only the partitions the keys hash to, when the partitioner is known.
  const keys = request.filter.keys ?? []
  const { ranges, narrowed } =
    request.partitions === undefined && request.partitioner
      ? keyRanges(
          resolved,
          request.partitioner,
          keys.map((key) => Buffer.from(key, 'utf8')),
        )
      : { ranges: resolved, narrowed: [] }
  const unseen = new Set(narrowed.length > 0 ? keys : [])
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  request.signal?.addEventListener('abort', onAbort, { once: true })
  let shown = 0
  let read = 0
  let undecodable = 0
  let hiddenUndecodable = 0
  let limited = false
  const failures = new FailureSummary()
  const coverage = createFilterCoverage(request.filter)
  try {
    outer: for await (const batch of request.reader.read(ranges, {
      signal: stop.signal,
      onConnection: request.onConnection,
    })) {
      for (const record of batch.records) {
        read++
        if (unseen.size > 0 && record.key !== null) unseen.delete(record.key.toString('utf8'))
        let shownRecord = decodeAndFilter(record, request.decode, request.filter, coverage)
        if (shownRecord instanceof Promise) shownRecord = await shownRecord
        if (shownRecord === HIDDEN_UNDECODABLE || (shownRecord !== undefined && isUndecodable(shownRecord))) {
          failures.add({
            ...record,
            schema: request.schemaOf?.(record),
            type: shownRecord === HIDDEN_UNDECODABLE ? undefined : shownRecord.type,
            reason: shownRecord === HIDDEN_UNDECODABLE ? undefined : (shownRecord.keyError ?? shownRecord.error),
          })
        }
        if (shownRecord === HIDDEN_UNDECODABLE) {
          undecodable++
          hiddenUndecodable++
          continue
        }
        if (shownRecord === undefined) continue
        if (isUndecodable(shownRecord)) undecodable++
        const schema = request.schemaOf?.(record)
        if (schema) shownRecord.schema = schema
        if (request.valuesAreJsonText && isParsedJson(shownRecord.value)) shownRecord.valueIsStoredJson = true
        request.onRecord(shownRecord)
        shown++
        if (request.limit !== undefined && shown >= request.limit) {
          limited = true
          stop.abort()
          break outer
        }
      }
      // Backpressure: a slow reader of our output (`| less`) slows the reading, not our memory.
      const drained = request.drained?.()
      if (drained) await drained
    }
  } finally {
    request.signal?.removeEventListener('abort', onAbort)
  }
  return {
    shown,
    read,
    undecodable,
    hiddenUndecodable,
    failures: failures.list(),
    complete: !limited && !request.signal?.aborted && request.until !== undefined,
    ranges: ranges.map(({ topic, partition, start, end }) => ({ topic, partition, start, end })),
    notices: read > undecodable ? coverage.notices() : [],
    keyPartitions:
      narrowed.length > 0
        ? { partitioner: request.partitioner as PartitionerName, narrowed, unseen: [...unseen] }
        : undefined,
  }
}

const HIDDEN_UNDECODABLE = Symbol('hidden undecodable')

const isUndecodable = (record: ShownRecord) => record.error !== undefined || record.keyError !== undefined

/** The record to show, or undefined when a filter rejects it. */
function decodeAndFilter(
  record: KafkaRecord,
  decode: TailRequest['decode'],
  filter: RecordFilter,
  coverage: FilterCoverage,
): Shown | Promise<Shown> {
  try {
    const event = decode(record)
    if (event instanceof Promise)
      return event.then(
        (e) => filterDecoded(record, e, filter, coverage),
        (error) => undecodable(record, error, filter),
      )
    return filterDecoded(record, event, filter, coverage)
  } catch (error) {
    return undecodable(record, error, filter)
  }
}

type Shown = ShownRecord | undefined | typeof HIDDEN_UNDECODABLE

function undecodable(record: KafkaRecord, error: unknown, filter: RecordFilter): Shown {
  // Undecodable: type and payload filters cannot judge it; without such filters it is shown.
  if (filter.types?.length || filter.where?.length) return HIDDEN_UNDECODABLE
  const message = (error as Error).message
  const decoded = partialDecode(error)
  const keyFailed = (error as { where?: { part?: string } }).where?.part === 'key'
  // The decoded key when only the value failed; else (no decoder's answer) the key as text.
  const key =
    decoded !== undefined && 'key' in decoded
      ? decoded.key
      : keyFailed || record.key === null
        ? null
        : record.key.toString('utf8')
  // An undecodable key is matched by its bytes as text: `--key` still finds it.
  const keyText = keyFailed && record.key !== null ? record.key.toString('utf8') : key
  if (!matches({ keys: filter.keys }, { key: keyText })) return undefined
  const type = (error as { where?: { type?: string } }).where?.type
  const shown: ShownRecord = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key,
    headers: headerEntries(record),
    ...(type === undefined ? {} : { type }),
    rawValue: record.value,
  }
  if (keyFailed) {
    shown.keyError = message
    shown.rawKey = record.key
    if (decoded !== undefined && 'value' in decoded) shown.value = decoded.value
    else shown.error = decoded !== undefined && 'valueError' in decoded ? decoded.valueError : message
  } else {
    shown.error = message
  }
  return shown
}

function filterDecoded(
  record: KafkaRecord,
  event: DecodedEvent,
  filter: RecordFilter,
  coverage: FilterCoverage,
): Shown {
  coverage.observe(event as unknown as Record<string, unknown>)
  if (!matches(filter, event as unknown as Record<string, unknown>)) return undefined
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: event.key,
    headers: headerEntries(record),
    type: event.type,
    id: event.id,
    aggregateId: event.aggregateId,
    causationId: event.causationId,
    version: event.version,
    value: event.value,
    payload: event.payload === event.value ? undefined : event.payload,
    rawValue: record.value,
  }
}

/** A plain object or array, as JSON.parse makes them (the auto codec returns bytes as a Buffer). */
function isParsedJson(value: unknown): boolean {
  return (
    Array.isArray(value) ||
    (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)
  )
}
