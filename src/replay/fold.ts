/**
 * The fold engine: records of fixed partition ranges → decoded events → reducer → state store,
 * with per-partition offsets committed atomically together with the state.
 *
 * Invariants:
 * - Every range is bounded: the fold stops when each partition's read position reaches the end
 *   fixed before it started, never earlier, never later.
 * - The offset committed for a partition is the read position after the last folded batch, so a
 *   resumed fold neither repeats nor misses a record.
 * - No per-event await: the loop awaits once per batch.
 */

import type { WriterSchema } from '../codecs/codec.js'
import { EsError, InvalidDataError } from '../errors.js'
import type { HeapBudget, HeapGuard } from '../heap.js'
import type { KafkaRecord } from '../kafka/record.js'
import { type PartitionOffsets, partitionKey, type StateStore } from '../stores/state-store.js'
import type { Reducer, ReducerEvent } from './reducer.js'

/** A batch of records of one partition, and the position to read from after it. */
export interface FoldBatch {
  topic: string
  partition: number
  records: KafkaRecord[]
  position: number
}

export interface SkippedRecord {
  topic: string
  partition: number
  offset: number
  reason: string
  /** The event type, when known without the value (a header), and the writer schema. */
  type?: string
  schema?: WriterSchema
}

export interface FoldProgress {
  events: number
  /** Records read so far, skipped ones included, against `total` fixed at start. */
  done: number
  total: number
  elapsedMs: number
}

export interface FoldOptions {
  batches: AsyncIterable<FoldBatch>
  /** Total records to read (sum of end − start), for progress and ETA. */
  total: number
  /** Start offsets, so partitions that deliver nothing are still reported. */
  startOffsets: PartitionOffsets
  /** Synchronous except when a schema must be loaded first (then a promise). */
  decode: (record: KafkaRecord) => ReducerEvent | Promise<ReducerEvent>
  reducer: Reducer
  store: StateStore
  onError: 'fail' | 'skip'
  /** Fold only this aggregate. */
  aggregate?: string
  /** Called with each folded event of `aggregate` and the state after it (`--trace`). */
  onTrace?: (event: ReducerEvent, state: unknown) => void
  onProgress?: (progress: FoldProgress) => void
  /** Commit after this many events (and at the end). Default 500,000. */
  checkpointEvents?: number
  /**
   * Commit at least this often (ms) while events are folded. Default 5 s. Commits cost a write of
   * every aggregate changed since the last one, so they are spaced out: a killed replay redoes at
   * most this much work.
   */
  checkpointMs?: number
  /** Reducer module path, for error messages. */
  reducerLabel?: string
  /** Keep at most this many skipped-record details (all are counted). */
  maxSkippedDetails?: number
  /** For stores that hold every state in memory: stop with a clear error before the heap is full. */
  heapGuard?: { guard: HeapGuard; where?: string }
  /** For stores that keep their states on file: keep the heap near what is live. */
  heapBudget?: Pick<HeapBudget, 'check'>
}

export interface FoldResult {
  events: number
  /** Aggregates folded, counted by a parallel fold's workers (its store may hold none of them). */
  aggregates?: number
  skippedCount: number
  skipped: SkippedRecord[]
  offsets: PartitionOffsets
  durationMs: number
}

/** A store that prefetches gets the aggregate ids of this many decoded events at a time. */
const PREFETCH_EVENTS = 1024

export async function fold(options: FoldOptions): Promise<FoldResult> {
  const { reducer, store, decode } = options
  const started = Date.now()
  const offsets: PartitionOffsets = new Map(options.startOffsets)
  const checkpointEvents = options.checkpointEvents ?? 500_000
  const checkpointMs = options.checkpointMs ?? 5000
  let lastCommit = started
  const maxSkipped = options.maxSkippedDetails ?? 1000
  const skipped: SkippedRecord[] = []
  let skippedCount = 0
  let events = 0
  let done = 0
  let sinceCheckpoint = 0
  let lastProgress = 0

  const skip = (record: KafkaRecord, error: unknown) => {
    skippedCount++
    if (skipped.length < maxSkipped) {
      const where = (error as { where?: { type?: string; schema?: WriterSchema } }).where
      skipped.push({
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        reason: (error as Error).message,
        ...(where?.type === undefined ? {} : { type: where.type }),
        ...(where?.schema === undefined ? {} : { schema: where.schema }),
      })
    }
  }

  const foldOne = (record: KafkaRecord, event: ReducerEvent, id: string) => {
    // One lookup: stores never hold undefined (null/undefined states are deleted).
    let current = store.get(id)
    if (current === undefined) current = reducer.initialState(id)
    let next: unknown
    try {
      next = reducer.evolve(current, event)
    } catch (error) {
      throw new InvalidDataError(
        `reducer ${options.reducerLabel ?? reducer.name} threw on ${event.type ?? 'an untyped event'} at ${record.topic}/${record.partition}@${record.offset}: ${(error as Error).message}`,
        {
          code: 'REDUCER_FAILED',
          where: {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            type: event.type,
            reducer: reducer.name,
          },
          suggestion: 'fix the reducer and run again; a state file keeps what was committed before this event',
          cause: error,
        },
      )
    }
    if (next === null || next === undefined) store.delete(id)
    else store.set(id, next)
    events++
    sinceCheckpoint++
    options.onTrace?.(event, next ?? null)
  }

  // A store keeping its states on file loads those of PREFETCH_EVENTS aggregates in one go
  // (prefetch): that many events are decoded first, then folded. Other stores fold each event as
  // it is decoded. Either way decoded events die young: a whole fetched batch of them alive at
  // once would be copied by every scavenge.
  const folding: Array<{ record: KafkaRecord; event: ReducerEvent; id: string }> = []
  const ids: string[] = []
  const foldPrefetched = () => {
    if (ids.length > 0) store.prefetch?.(ids)
    for (const { record, event, id } of folding) foldOne(record, event, id)
    folding.length = 0
    ids.length = 0
  }
  for await (const batch of options.batches) {
    const prefetching = store.prefetch !== undefined
    for (const record of batch.records) {
      done++
      let event: ReducerEvent
      try {
        const decoded = decode(record)
        event = decoded instanceof Promise ? await decoded : decoded
        if (event.aggregateId === undefined || event.aggregateId === null) {
          throw new InvalidDataError(
            `record at ${record.topic}/${record.partition}@${record.offset} has no aggregate id`,
            {
              code: 'NO_AGGREGATE_ID',
              where: { topic: record.topic, partition: record.partition, offset: record.offset },
            },
          )
        }
      } catch (error) {
        if (options.onError === 'fail') throw asInvalidData(error, record)
        skip(record, error)
        continue
      }
      const id = String(event.aggregateId)
      if (options.aggregate !== undefined && id !== options.aggregate) continue
      if (!prefetching) {
        foldOne(record, event, id)
        continue
      }
      folding.push({ record, event, id })
      ids.push(id)
      if (folding.length === PREFETCH_EVENTS) foldPrefetched()
    }
    foldPrefetched()
    offsets.set(partitionKey(batch.topic, batch.partition), batch.position)
    options.heapGuard?.guard.check(store.size, options.heapGuard.where)
    options.heapBudget?.check()
    if (
      sinceCheckpoint >= checkpointEvents ||
      (sinceCheckpoint > 0 && (Date.now() - lastCommit >= checkpointMs || store.needsCommit?.()))
    ) {
      await store.commit(offsets)
      sinceCheckpoint = 0
      lastCommit = Date.now()
    }
    if (options.onProgress) {
      const now = Date.now()
      if (now - lastProgress >= 200) {
        lastProgress = now
        options.onProgress({ events, done, total: options.total, elapsedMs: now - started })
      }
    }
  }
  await store.commit(offsets)
  options.onProgress?.({ events, done, total: options.total, elapsedMs: Date.now() - started })
  return { events, skippedCount, skipped, offsets, durationMs: Date.now() - started }
}

function asInvalidData(error: unknown, record: KafkaRecord): EsError {
  if (error instanceof EsError) return error
  return new InvalidDataError(
    `cannot decode ${record.topic}/${record.partition}@${record.offset}: ${(error as Error).message}`,
    {
      code: 'DECODE_FAILED',
      where: { topic: record.topic, partition: record.partition, offset: record.offset },
      suggestion: 'use --on-error skip to count and list undecodable records instead',
    },
  )
}
