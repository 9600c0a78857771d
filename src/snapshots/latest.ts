/**
 * `es snapshots`: the latest value per key of a compacted snapshots stream, tombstones applied, or
 * every version of one key still in the log (`--history`). Reads every partition from its log
 * start to the end fixed at start (compaction leaves offset gaps; the reader handles them).
 */
import { loadingSchemas } from '../codecs/codec-errors.js'
import { NotFoundError } from '../errors.js'
import type { LogReader } from '../kafka/log-reader.js'
import type { KafkaRecord } from '../kafka/record.js'

export interface SnapshotDecoder {
  /** Synchronous except when a schema must be loaded first (then a promise). */
  key(record: KafkaRecord): string | Promise<string>
  /** The decoded value; throws (or rejects) when undecodable. Only called for non-null values. */
  value(record: KafkaRecord): unknown
}

export interface SnapshotEntry {
  key: string
  /** Null for a tombstone (history only: the latest view drops deleted keys). */
  value: unknown
  topic: string
  partition: number
  offset: number
  timestamp: string
  /** Why the value could not be decoded (the raw text is in `value`). */
  error?: string
}

export interface SnapshotRequest {
  reader: Pick<LogReader, 'resolveRanges' | 'read'>
  topics: string[]
  decode: SnapshotDecoder
  /** Only this key. */
  key?: string
  /** Every version of `key` still in the log, tombstones included. */
  history?: boolean
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

export async function readSnapshots(request: SnapshotRequest): Promise<SnapshotResult> {
  const ranges = await request.reader.resolveRanges(request.topics, {
    from: { kind: 'beginning' },
    until: { kind: 'end' },
  })
  const latest = new Map<string, SnapshotEntry>()
  const history: SnapshotEntry[] = []
  let records = 0
  let undecodable = 0
  for await (const batch of request.reader.read(ranges)) {
    for (const record of batch.records) {
      records++
      let key = request.decode.key(record)
      if (key instanceof Promise) key = await key
      if (request.key !== undefined && key !== request.key) continue
      const entry: SnapshotEntry = {
        key,
        value: null,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        timestamp: new Date(record.timestamp).toISOString(),
      }
      if (record.value !== null) {
        try {
          entry.value = request.decode.value(record)
          if (entry.value instanceof Promise) entry.value = await entry.value
        } catch (error) {
          undecodable++
          entry.error = (error as Error).message
          entry.value = record.value.toString('utf8')
        }
      }
      if (request.history) history.push(entry)
      else latest.set(key, entry)
    }
  }
  let entries: SnapshotEntry[]
  let deleted = 0
  if (request.history) {
    entries = inLogOrder(history)
  } else {
    entries = []
    for (const entry of latest.values()) {
      if (entry.value === null && entry.error === undefined) deleted++
      else entries.push(entry)
    }
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }
  if (request.key !== undefined && entries.length === 0) {
    const gone = !request.history && deleted > 0
    throw new NotFoundError(
      gone
        ? `key "${request.key}" was deleted (its latest record in ${request.topics.join(', ')} is a tombstone)`
        : `no snapshot for key "${request.key}" in ${request.topics.join(', ')}`,
      {
        code: 'KEY_NOT_FOUND',
        where: { key: request.key, topics: request.topics },
        suggestion: gone ? 'see its versions with --history' : undefined,
      },
    )
  }
  return { topics: request.topics, entries, records, deleted, undecodable }
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
  const keyText = (key: unknown) => (typeof key === 'string' ? key : JSON.stringify(key))
  const rawKey = (record: KafkaRecord) => (record.key === null ? '' : record.key.toString('utf8'))
  const decodeKey = loadingSchemas((record: KafkaRecord) => codecs.key.decode(record.key))
  return {
    key: (record) => {
      try {
        const key = decodeKey(record)
        return key instanceof Promise ? key.then(keyText, () => rawKey(record)) : keyText(key)
      } catch {
        return rawKey(record)
      }
    },
    value: loadingSchemas((record: KafkaRecord) => codecs.value.decode(record.value)),
  }
}
