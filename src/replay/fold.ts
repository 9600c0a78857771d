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
import { RecordSpill } from './record-spill.js'
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
  /** Records read and folded so far, skipped ones included, against `total` fixed at start. */
  done: number
  /** Records read but not folded yet (a fold in rounds reads a round ahead). */
  pending?: number
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
  /**
   * Fold in rounds by key ranges once the store holds more states than its cache (`capacity`),
   * for a store on file whose aggregate id is the record key, of one topic: see `Rounds`.
   */
  rounds?: { dir: string; topic: string; capacity: () => number }
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

/**
 * Rounds: a fold whose aggregates outgrow the store's cache would read and write a state on file
 * for nearly every event, all over the file. Instead it reads a round of records (the first of
 * ROUND_CACHES caches' worth of events, each next one twice as large, up to MAX_ROUND_EVENTS) into
 * files by key range (record-spill.ts), then folds one range after another: a range's states fit
 * the cache and lie together in the state file, so each is read and written about once a round,
 * in order. The round's end is a commit (states and offsets of the same moment): a killed fold
 * resumes from the last round folded.
 */
const ROUND_CACHES = 10
const MAX_ROUND_EVENTS = 8_000_000
/** The events of a range: an eighth of a cache (its records are read whole, its states fit beside others). */
const RANGE_CACHE_SHARE = 0.125
const MAX_RANGES = 256
/** Keys sampled to choose a round's ranges. */
const ROUND_SAMPLE = 20_000

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
  /** Records read from the batches (folded, or spilled for a round). */
  let read = 0
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
  // (Three arrays rather than an object per event: one allocation less per event.)
  const foldingRecords: KafkaRecord[] = []
  const foldingEvents: ReducerEvent[] = []
  const ids: string[] = []
  const foldPrefetched = () => {
    if (ids.length > 0) store.prefetch?.(ids)
    for (let i = 0; i < ids.length; i++) foldOne(foldingRecords[i], foldingEvents[i], ids[i])
    foldingRecords.length = 0
    foldingEvents.length = 0
    ids.length = 0
  }
  /** A decoded event with an aggregate id (otherwise it throws, as an undecodable record). */
  const checked = (record: KafkaRecord, event: ReducerEvent): ReducerEvent => {
    if (event.aggregateId === undefined || event.aggregateId === null) {
      throw new InvalidDataError(`record at ${record.topic}/${record.partition}@${record.offset} has no aggregate id`, {
        code: 'NO_AGGREGATE_ID',
        where: { topic: record.topic, partition: record.partition, offset: record.offset },
      })
    }
    return event
  }
  /** Folds a checked event now, or with its prefetch group (outside the decoding's try: a reducer that throws fails). */
  const take = (record: KafkaRecord, event: ReducerEvent) => {
    const id = String(event.aggregateId)
    if (options.aggregate !== undefined && id !== options.aggregate) return
    if (store.prefetch === undefined) {
      foldOne(record, event, id)
      return
    }
    foldingRecords.push(record)
    foldingEvents.push(event)
    ids.push(id)
    if (ids.length === PREFETCH_EVENTS) foldPrefetched()
  }
  /**
   * Folds `records` from `from`: synchronously while decoding is (no promise per batch: the fold
   * keeps the reader's pace, as it did inline); a decode that waits (a schema to fetch) continues
   * the batch asynchronously.
   */
  const foldRecords = (records: KafkaRecord[], from = 0): Promise<void> | undefined => {
    for (let i = from; i < records.length; i++) {
      const record = records[i]
      done++
      let event: ReducerEvent
      try {
        const decoded = decode(record)
        if (decoded instanceof Promise) return foldRecordsAfter(records, i, decoded)
        event = checked(record, decoded)
      } catch (error) {
        if (options.onError === 'fail') throw asInvalidData(error, record)
        skip(record, error)
        continue
      }
      take(record, event)
    }
    foldPrefetched()
    return undefined
  }
  const foldRecordsAfter = async (records: KafkaRecord[], i: number, decoded: Promise<ReducerEvent>) => {
    const record = records[i]
    let event: ReducerEvent | undefined
    try {
      event = checked(record, await decoded)
    } catch (error) {
      if (options.onError === 'fail') throw asInvalidData(error, record)
      skip(record, error)
    }
    if (event !== undefined) take(record, event)
    await foldRecords(records, i + 1)
  }

  const progress = () => {
    if (!options.onProgress) return
    const now = Date.now()
    if (now - lastProgress < 200) return
    lastProgress = now
    options.onProgress({ events, done, total: options.total, elapsedMs: now - started, pending: read - done })
  }

  const commit = async () => {
    await store.commit(offsets)
    sinceCheckpoint = 0
    lastCommit = Date.now()
  }

  // Rounds (see ROUND_CACHES): records read but not folded yet, and the size of this round.
  let spill: RecordSpill | undefined
  let roundEvents = 0
  const beginRound = (capacity: number) => {
    const events = Math.max(1, Math.min(roundEvents, options.total - read))
    spill!.begin({
      ranges: Math.min(MAX_RANGES, Math.ceil(events / Math.max(1, capacity * RANGE_CACHE_SHARE))),
      sample: Math.min(ROUND_SAMPLE, events),
    })
  }
  const foldRound = async () => {
    // A range past four times its share is split (its keys grew with time, say).
    const maxRecords = Math.max(PREFETCH_EVENTS, Math.floor(4 * options.rounds!.capacity() * RANGE_CACHE_SHARE))
    for (const range of spill!.drain(PREFETCH_EVENTS, maxRecords)) {
      for (const records of range) {
        const pending = foldRecords(records)
        if (pending) await pending
      }
      store.writeBack?.()
      options.heapBudget?.check()
      progress()
    }
    await commit()
  }

  try {
    for await (const batch of options.batches) {
      const rounds = options.rounds
      if (spill === undefined && rounds !== undefined && store.size > rounds.capacity()) {
        spill = new RecordSpill(rounds.dir, rounds.topic)
        roundEvents = ROUND_CACHES * rounds.capacity()
        beginRound(rounds.capacity())
      }
      read += batch.records.length
      if (spill !== undefined) {
        for (const record of batch.records) spill.add(record)
        // Committed only with the round that folds these records.
        offsets.set(partitionKey(batch.topic, batch.partition), batch.position)
        options.heapBudget?.check()
        progress()
        if (spill.count >= roundEvents) {
          await foldRound()
          roundEvents = Math.min(2 * roundEvents, MAX_ROUND_EVENTS)
          beginRound(options.rounds!.capacity())
        }
        continue
      }
      const pending = foldRecords(batch.records)
      if (pending) await pending
      offsets.set(partitionKey(batch.topic, batch.partition), batch.position)
      options.heapGuard?.guard.check(store.size, options.heapGuard.where)
      options.heapBudget?.check()
      if (
        sinceCheckpoint >= checkpointEvents ||
        (sinceCheckpoint > 0 && (Date.now() - lastCommit >= checkpointMs || store.needsCommit?.()))
      ) {
        await commit()
      }
      progress()
    }
    if (spill !== undefined && spill.count > 0) await foldRound()
  } finally {
    spill?.close()
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
