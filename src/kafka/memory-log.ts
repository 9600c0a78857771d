/**
 * An in-memory Kafka log implementing the LogReader port, for unit tests of everything that reads
 * (replay, tail, snapshots) without a broker. It keeps the properties of a real log that readers
 * must cope with, and passes the same contract suite as the Kafka reader:
 * - offsets per partition, with gaps where records were compacted (`compact`, `removeOffsets`)
 *   and a moving log start (`deleteBefore`);
 * - transactions (`transaction()`): their records take offsets at once, the commit or abort
 *   marker takes one more; the last stable offset stays at the first offset of the oldest open
 *   transaction; aborted records and markers are never delivered;
 * - records carry timestamps (given, or `now()`), for reads by time.
 */
import { InternalError, NotFoundError } from '../errors.js'
import {
  describePartitions,
  type LogReader,
  type PartitionOffset,
  type PartitionRange,
  type PartitionWatermarks,
  type ReadOptions,
  type RecordBatch,
  type ResolveOptions,
  resolvePartitionRanges,
  topicNotFound,
} from './log-reader.js'
import type { KafkaRecord } from './record.js'

export interface AppendRecord {
  key?: Buffer | string | null
  value?: Buffer | string | null
  headers?: Record<string, Buffer | string>
  /** Epoch ms; default `now()`. */
  timestamp?: number
}

export interface MemoryLogOptions {
  /** Most records per delivered batch (so multi-batch logic is exercised). Default 100. */
  batchSize?: number
  now?: () => number
}

type TransactionState = 'open' | 'committed' | 'aborted'

interface Entry {
  offset: number
  /** Undefined for transaction markers. */
  record?: KafkaRecord
  transaction?: { state: TransactionState }
}

interface PartitionLog {
  entries: Entry[]
  logStart: number
  nextOffset: number
}

export class MemoryLog implements LogReader {
  private readonly logs = new Map<string, PartitionLog[]>()
  private readonly batchSize: number
  private readonly now: () => number
  private changed: Array<() => void> = []

  constructor(options: MemoryLogOptions = {}) {
    this.batchSize = options.batchSize ?? 100
    this.now = options.now ?? Date.now
  }

  createTopic(topic: string, partitions = 1): void {
    if (this.logs.has(topic)) throw new InternalError(`topic ${topic} exists`, { code: 'TOPIC_EXISTS' })
    this.logs.set(
      topic,
      Array.from({ length: partitions }, () => ({ entries: [], logStart: 0, nextOffset: 0 })),
    )
  }

  /** Appends records to a partition (creating a one-partition topic if needed); returns their offsets. */
  append(topic: string, partition: number, records: AppendRecord[]): number[] {
    if (!this.logs.has(topic)) this.createTopic(topic, partition + 1)
    const offsets = records.map((record) => this.appendEntry(topic, partition, record))
    this.notify()
    return offsets
  }

  /** A transaction over any partitions; its records are invisible until `commit()`, forever after `abort()`. */
  transaction(): MemoryTransaction {
    const state = { state: 'open' as TransactionState }
    const touched = new Set<string>()
    const finish = (outcome: 'committed' | 'aborted') => {
      if (state.state !== 'open') throw new InternalError('transaction already ended', { code: 'TRANSACTION_ENDED' })
      state.state = outcome
      for (const key of touched) {
        const [topic, partition] = splitKey(key)
        const log = this.partitionLog(topic, partition)
        log.entries.push({ offset: log.nextOffset++ }) // the marker
      }
      this.notify()
    }
    return {
      append: (topic, partition, records) => {
        if (state.state !== 'open') throw new InternalError('transaction already ended', { code: 'TRANSACTION_ENDED' })
        if (!this.logs.has(topic)) this.createTopic(topic, partition + 1)
        touched.add(`${partition}:${topic}`)
        const offsets = records.map((record) => this.appendEntry(topic, partition, record, state))
        this.notify()
        return offsets
      },
      commit: () => finish('committed'),
      abort: () => finish('aborted'),
    }
  }

  /** Log compaction: keeps only the last record per key (of committed or plain records) in each partition. */
  compact(topic: string): void {
    for (const log of this.topicLogs(topic)) {
      const last = new Map<string, number>()
      for (const entry of log.entries) {
        if (entry.record?.key && (entry.transaction?.state ?? 'committed') === 'committed')
          last.set(entry.record.key.toString('latin1'), entry.offset)
      }
      log.entries = log.entries.filter((entry) => {
        const key = entry.record?.key?.toString('latin1')
        if (key === undefined || (entry.transaction?.state ?? 'committed') !== 'committed') return true
        return last.get(key) === entry.offset
      })
    }
  }

  /** Removes records at the given offsets (a gap, as compaction leaves). */
  removeOffsets(topic: string, partition: number, offsets: number[]): void {
    const log = this.partitionLog(topic, partition)
    const removed = new Set(offsets)
    log.entries = log.entries.filter((entry) => !removed.has(entry.offset))
  }

  /** Moves the log start to `offset`, dropping everything before it (retention). */
  deleteBefore(topic: string, partition: number, offset: number): void {
    const log = this.partitionLog(topic, partition)
    log.logStart = Math.max(log.logStart, Math.min(offset, log.nextOffset))
    log.entries = log.entries.filter((entry) => entry.offset >= log.logStart)
  }

  async topics(): Promise<string[]> {
    return [...this.logs.keys()].filter((t) => !t.startsWith('__')).sort()
  }

  async partitions(topic: string): Promise<number[]> {
    return this.topicLogs(topic).map((_, partition) => partition)
  }

  async watermarks(topic: string): Promise<PartitionWatermarks[]> {
    return this.topicLogs(topic).map((log, partition) => ({
      partition,
      start: log.logStart,
      end: lastStableOffset(log),
    }))
  }

  async offsetsForTime(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    return this.topicLogs(topic).map((log, partition) => {
      const end = lastStableOffset(log)
      const found = log.entries.find((e) => e.record && e.record.timestamp >= timestamp && e.offset < end)
      return { partition, offset: found?.offset ?? end }
    })
  }

  resolveRanges(topics: string[], options: ResolveOptions): Promise<PartitionRange[]> {
    return resolvePartitionRanges(this, topics, options)
  }

  async *read(ranges: PartitionRange[], options: ReadOptions = {}): AsyncGenerator<RecordBatch> {
    const cursors = ranges
      .filter((r) => r.end === undefined || r.start < r.end)
      .map((r) => {
        const logs = this.topicLogs(r.topic)
        const log = logs[r.partition]
        if (log === undefined) {
          throw new NotFoundError(`topic "${r.topic}" has no partition ${r.partition}`, {
            code: 'PARTITION_NOT_FOUND',
            suggestion: `its partitions are ${describePartitions(logs.map((_, p) => p))}`,
            where: { topic: r.topic, partition: r.partition },
          })
        }
        return { range: r, log, position: r.start }
      })
    const signal = options.signal
    while (!signal?.aborted) {
      let delivered = false
      let pending = false
      for (const cursor of cursors) {
        const { range, log } = cursor
        if (range.end !== undefined && cursor.position >= range.end) continue
        pending = true
        // Kafka moves a position that fell before the log start to the log start.
        if (cursor.position < log.logStart) cursor.position = log.logStart
        const limit = Math.min(lastStableOffset(log), range.end ?? Number.POSITIVE_INFINITY)
        if (cursor.position >= limit) continue
        const records: KafkaRecord[] = []
        let position = limit
        for (const entry of log.entries) {
          if (entry.offset < cursor.position) continue
          if (entry.offset >= limit) break
          if (!entry.record || entry.transaction?.state === 'aborted') continue
          if (records.length === this.batchSize) {
            position = entry.offset
            break
          }
          records.push(entry.record)
        }
        cursor.position = position
        delivered = true
        yield { topic: range.topic, partition: range.partition, records, position }
        if (signal?.aborted) return
      }
      if (!pending) return
      if (!delivered) await this.nextChange(signal)
    }
  }

  async close(): Promise<void> {
    this.notify()
  }

  private appendEntry(
    topic: string,
    partition: number,
    record: AppendRecord,
    transaction?: { state: TransactionState },
  ): number {
    const log = this.partitionLog(topic, partition)
    const offset = log.nextOffset++
    const headers: Record<string, Buffer | string | undefined> = {}
    for (const [name, value] of Object.entries(record.headers ?? {})) headers[name] = toBuffer(value) ?? undefined
    log.entries.push({
      offset,
      record: {
        topic,
        partition,
        offset,
        timestamp: record.timestamp ?? this.now(),
        key: toBuffer(record.key),
        value: toBuffer(record.value),
        headers,
      },
      ...(transaction ? { transaction } : {}),
    })
    return offset
  }

  private topicLogs(topic: string): PartitionLog[] {
    const logs = this.logs.get(topic)
    if (logs === undefined) throw topicNotFound(topic, this.logs.keys())
    return logs
  }

  private partitionLog(topic: string, partition: number): PartitionLog {
    const log = this.topicLogs(topic)[partition]
    if (log === undefined) {
      throw new NotFoundError(`topic "${topic}" has no partition ${partition}`, {
        code: 'PARTITION_NOT_FOUND',
        where: { topic, partition },
      })
    }
    return log
  }

  private notify(): void {
    for (const resolve of this.changed.splice(0)) resolve()
  }

  private nextChange(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done)
        resolve()
      }
      this.changed.push(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }
}

export interface MemoryTransaction {
  append(topic: string, partition: number, records: AppendRecord[]): number[]
  commit(): void
  abort(): void
}

/** The first offset of the oldest open transaction, else the log end. */
function lastStableOffset(log: PartitionLog): number {
  for (const entry of log.entries) if (entry.transaction?.state === 'open') return entry.offset
  return log.nextOffset
}

function toBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? Buffer.from(value) : value
}

function splitKey(key: string): [string, number] {
  const colon = key.indexOf(':')
  return [key.slice(colon + 1), Number(key.slice(0, colon))]
}
