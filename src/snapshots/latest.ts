/**
 * `es snapshots`: the latest value per key of a compacted snapshots stream, tombstones applied, or
 * every version of one key still in the log (`--history`). Reads every partition from its log
 * start to the end fixed at start (compaction leaves offset gaps; the reader handles them) — but
 * for one key's latest value, which is its last record in its partition: that partition (or each,
 * when the partitioner is unknown) is read back from the end in windows 4× wider each time, and
 * the first window holding the key ends the search. In several partitions, the newest record wins.
 *
 * The whole table is kept as raw bytes in bounded memory (latest-store.ts) and decoded as it is
 * read out, in key order, so any number of keys can be listed. A record is a tombstone when its
 * value is null; an empty value is decoded like any other (the codec says what it means). A value
 * that cannot be decoded is kept with its error and its raw bytes, never shown as if it were one.
 */
import { loadingSchemas } from '../codecs/codec-errors.js'
import { FailureSummary } from '../codecs/failure-summary.js'
import { InvalidDataError, NotFoundError } from '../errors.js'
import { HeapBudget } from '../heap.js'
import type { LogReader, PartitionRange } from '../kafka/log-reader.js'
import { keyRanges, type PartitionerName } from '../kafka/partitioner.js'
import type { KafkaRecord } from '../kafka/record.js'
import { rawText, toJsonSafe } from '../render/records.js'
import { LatestStore, type StoredRecord } from './latest-store.js'

export interface SnapshotDecoder {
  /**
   * The key as text, null for a record without a key; throws (or rejects) when undecodable.
   * Synchronous except when a schema must be loaded first (then a promise).
   */
  key(bytes: Buffer | null): string | null | Promise<string | null>
  /** The decoded value; throws (or rejects) when undecodable. Only called for non-null values. */
  value(bytes: Buffer): unknown
}

export interface SnapshotEntry {
  /** Null for a record without a key (not the text "null"). */
  key: string | null
  /** The decoded value; null for a tombstone (history only: the latest view drops deleted keys). Absent when undecodable. */
  value?: unknown
  topic: string
  partition: number
  offset: number
  timestamp: string
  /** Why the value could not be decoded; then `raw` holds its bytes (text, or `base64:…`). */
  error?: string
  raw?: string | null
  /** Why the key could not be decoded (then `key` is its raw text). */
  keyError?: string
}

export interface SnapshotRequest {
  reader: Pick<LogReader, 'resolveRanges' | 'read'>
  topics: string[]
  decode: SnapshotDecoder
  /** Only this key. */
  key?: string
  /** Every version of `key` still in the log, tombstones included. */
  history?: boolean
  /**
   * How the service's producer partitions `key` and the key's bytes as produced: then only the
   * partition it hashes to is read (per topic).
   */
  partitioned?: { partitioner: PartitionerName; keyBytes: Buffer }
  /** One key's latest: offsets of the first window read back from each partition's end (tests). */
  window?: number
}

export interface SnapshotResult {
  topics: string[]
  entries: SnapshotEntry[]
  /** Records read, tombstones included. */
  records: number
  /** Keys whose latest record is a tombstone (deleted). */
  deleted: number
  undecodable: number
}

/** What a whole-table read found besides its entries, complete once they have all been read. */
export interface SnapshotTotals {
  topics: string[]
  /** Records read, tombstones included. */
  records: number
  /** Keys with a value (entries). */
  keys: number
  /** Keys whose latest record is a tombstone. */
  deleted: number
  /** Entries whose value (or key) could not be decoded. */
  undecodable: number
  failures: FailureSummary
}

/**
 * The whole table, streamed: reads the log into a bounded store, then `entries()` decodes the
 * latest value of each key in key order (deleted keys skipped) while `totals` are counted. Close it
 * to remove its temporary files.
 */
export interface SnapshotTable {
  readonly totals: SnapshotTotals
  entries(): AsyncIterableIterator<SnapshotEntry>
  close(): void
}

export async function openSnapshotTable(request: Omit<SnapshotRequest, 'key' | 'history'>): Promise<SnapshotTable> {
  const ranges = await request.reader.resolveRanges(request.topics, {
    from: { kind: 'beginning' },
    until: { kind: 'end' },
  })
  const topicIndex = new Map(request.topics.map((topic, i) => [topic, i]))
  const store = new LatestStore()
  const totals: SnapshotTotals = {
    topics: request.topics,
    records: 0,
    keys: 0,
    deleted: 0,
    undecodable: 0,
    failures: new FailureSummary(),
  }
  // The heap near what is live (the store's bound and the batches in flight), whatever was read.
  const budget = new HeapBudget()
  try {
    for await (const batch of request.reader.read(ranges)) {
      for (const record of batch.records) store.put(record, topicIndex.get(record.topic) ?? 0)
      totals.records += batch.records.length
      budget.check()
    }
  } catch (error) {
    store.close()
    throw error
  }
  return {
    totals,
    async *entries() {
      for (const stored of store.entries()) {
        if (stored.value === null) {
          totals.deleted++
          continue
        }
        let entry = decodeEntry(stored, request.topics, request.decode)
        if (entry instanceof Promise) entry = await entry
        totals.keys++
        if (entry.error !== undefined || entry.keyError !== undefined) {
          totals.undecodable++
          totals.failures.add({ ...entry, reason: entry.error ?? `key: ${entry.keyError}` })
        }
        if (totals.keys % 1000 === 0) budget.check()
        yield entry
      }
    },
    close: () => store.close(),
  }
}

/** Offsets of the first window read back from a partition's end for one key; each next is 4× wider. */
const FIRST_WINDOW = 4096

/** The last record of `range` that `matches`, reading windows back from the range's end. */
async function lastInRange(
  reader: Pick<LogReader, 'read'>,
  range: PartitionRange,
  firstWindow: number,
  matches: (record: KafkaRecord) => Promise<boolean>,
): Promise<KafkaRecord | undefined> {
  let end = range.end ?? range.start
  for (let window = firstWindow; end > range.start; window *= 4) {
    const start = Math.max(range.start, end - window)
    let last: KafkaRecord | undefined
    for await (const batch of reader.read([{ ...range, start, end }])) {
      for (const record of batch.records) if (await matches(record)) last = record
    }
    if (last) return last
    end = start
  }
  return undefined
}

/** The snapshots as one result: the whole table (latest per key), one key, or one key's history. */
export async function readSnapshots(request: SnapshotRequest): Promise<SnapshotResult> {
  if (request.key === undefined) {
    const table = await openSnapshotTable(request)
    try {
      const entries: SnapshotEntry[] = []
      for await (const entry of table.entries()) entries.push(entry)
      const { records, deleted, undecodable } = table.totals
      return { topics: request.topics, entries, records, deleted, undecodable }
    } finally {
      table.close()
    }
  }
  const all = await request.reader.resolveRanges(request.topics, {
    from: { kind: 'beginning' },
    until: { kind: 'end' },
  })
  const { ranges, narrowed } = request.partitioned
    ? keyRanges(all, request.partitioned.partitioner, [request.partitioned.keyBytes])
    : { ranges: all, narrowed: [] }
  let latest: StoredRecord | undefined
  const history: SnapshotEntry[] = []
  let records = 0
  const matches = async (record: KafkaRecord) => {
    records++
    let key = keyOf(record.key, request.decode)
    if (key instanceof Promise) key = await key
    return key.key === request.key
  }
  if (request.history) {
    for await (const batch of request.reader.read(ranges)) {
      for (const record of batch.records) {
        if (!(await matches(record))) continue
        let entry = decodeEntry(storedOf(record, request.topics), request.topics, request.decode)
        if (entry instanceof Promise) entry = await entry
        history.push(entry)
      }
    }
  } else {
    // The latest version is the key's last record in its partition: read back from the end, a
    // window at a time, until one holds the key.
    for (const range of ranges) {
      const found = await lastInRange(request.reader, range, request.window ?? FIRST_WINDOW, matches)
      if (!found) continue
      const stored = storedOf(found, request.topics)
      // In several partitions (a producer that changed partitioner): the newest by timestamp.
      if (!latest || stored.timestamp >= latest.timestamp) latest = stored
    }
  }
  let entries: SnapshotEntry[] = []
  let deleted = 0
  if (request.history) {
    entries = inLogOrder(history)
  } else if (latest?.value === null) {
    deleted = 1
  } else if (latest !== undefined) {
    let entry = decodeEntry(latest, request.topics, request.decode)
    if (entry instanceof Promise) entry = await entry
    entries = [entry]
  }
  if (entries.length === 0) {
    const gone = deleted > 0
    throw new NotFoundError(
      gone
        ? `key "${request.key}" was deleted (its latest record in ${request.topics.join(', ')} is a tombstone)`
        : `no snapshot for key "${request.key}" in ${request.topics.join(', ')}`,
      {
        code: 'KEY_NOT_FOUND',
        where: { key: request.key, topics: request.topics },
        suggestion: gone
          ? 'see its versions with --history'
          : narrowed.length > 0 && request.partitioned
            ? `only ${narrowed.map((n) => `${n.topic}/${n.partition}`).join(', ')} was read, where ${request.partitioned.partitioner} puts the key: if its producer partitions otherwise, try --partitioner none`
            : undefined,
      },
    )
  }
  const undecodable = entries.filter((e) => e.error !== undefined || e.keyError !== undefined).length
  return { topics: request.topics, entries, records, deleted, undecodable }
}

function storedOf(record: KafkaRecord, topics: string[]): StoredRecord {
  return {
    key: record.key,
    value: record.value,
    topic: Math.max(0, topics.indexOf(record.topic)),
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
  }
}

interface DecodedKey {
  key: string | null
  keyError?: string
}

/** The key as text, or its raw text with the error when it cannot be decoded. */
function keyOf(bytes: Buffer | null, decode: SnapshotDecoder): DecodedKey | Promise<DecodedKey> {
  const failed = (error: unknown): DecodedKey => {
    if (!(error instanceof InvalidDataError)) throw error
    return { key: rawText(bytes), keyError: reasonOf(error) }
  }
  try {
    const key = decode.key(bytes)
    return key instanceof Promise ? key.then((k) => ({ key: k }), failed) : { key }
  } catch (error) {
    return failed(error)
  }
}

/** A stored record decoded: its value, or (when it cannot be decoded) the error and its raw bytes. */
function decodeEntry(
  stored: StoredRecord,
  topics: string[],
  decode: SnapshotDecoder,
): SnapshotEntry | Promise<SnapshotEntry> {
  const build = (key: DecodedKey): SnapshotEntry | Promise<SnapshotEntry> => {
    const entry: SnapshotEntry = {
      key: key.key,
      topic: topics[stored.topic],
      partition: stored.partition,
      offset: stored.offset,
      timestamp: new Date(stored.timestamp).toISOString(),
    }
    if (key.keyError !== undefined) entry.keyError = key.keyError
    if (stored.value === null) {
      entry.value = null
      return entry
    }
    const bytes = stored.value
    const failed = (error: unknown): SnapshotEntry => {
      // Only decode errors make a value undecodable; anything else (a registry out of reach) ends the read.
      if (!(error instanceof InvalidDataError)) throw error
      entry.error = reasonOf(error)
      entry.raw = rawText(bytes)
      return entry
    }
    try {
      const value = decode.value(bytes)
      if (value instanceof Promise)
        return value.then((v) => {
          entry.value = v
          return entry
        }, failed)
      entry.value = value
      return entry
    } catch (error) {
      return failed(error)
    }
  }
  const key = keyOf(stored.key, decode)
  return key instanceof Promise ? key.then(build) : build(key)
}

/** A decode error's reason without a position prefix (the entry says where it is). */
function reasonOf(error: Error): string {
  return (error as { reason?: string }).reason ?? error.message
}

/**
 * Versions in log order: each partition's in offset order (the order that makes one version the
 * latest), partitions merged by timestamp (the only order across them). Sorting by timestamp
 * alone could show an older version last: producers set record timestamps, and they may go
 * backwards within a partition (event-time changelogs, replayed data).
 */
function inLogOrder(entries: SnapshotEntry[]): SnapshotEntry[] {
  const partitions = new Map<string, SnapshotEntry[]>()
  for (const entry of entries) {
    const key = `${entry.topic}/${entry.partition}`
    const list = partitions.get(key)
    if (list) list.push(entry)
    else partitions.set(key, [entry])
  }
  const lists = [...partitions.values()].map((list) => list.sort((a, b) => a.offset - b.offset))
  const next = lists.map(() => 0)
  const out: SnapshotEntry[] = []
  for (;;) {
    let pick = -1
    for (let i = 0; i < lists.length; i++) {
      if (next[i] >= lists[i].length) continue
      if (pick < 0 || lists[i][next[i]].timestamp < lists[pick][next[pick]].timestamp) pick = i
    }
    if (pick < 0) return out
    out.push(lists[pick][next[pick]++])
  }
}

/**
 * A snapshot decoder from a service's key and value codecs (no envelope: a snapshot is the state),
 * loading missing schemas like every other decode (`loadingSchemas`).
 */
export function codecSnapshotDecoder(codecs: {
  key: { decode(bytes: Buffer | null): unknown }
  value: { decode(bytes: Buffer | null): unknown }
}): SnapshotDecoder {
  const keyText = (key: unknown) =>
    key === null ? null : typeof key === 'string' ? key : JSON.stringify(toJsonSafe(key))
  const decodeKey = loadingSchemas((bytes: Buffer | null) => (bytes === null ? null : codecs.key.decode(bytes)))
  return {
    key: (bytes) => {
      const key = decodeKey(bytes)
      return key instanceof Promise ? key.then(keyText) : keyText(key)
    },
    value: loadingSchemas((bytes: Buffer) => codecs.value.decode(bytes)),
  }
}
