/**
 * `es replay`: fold the events of a set of topics, from offset 0 or from the offsets stored with
 * the state, up to the ends fixed at start, and report what was reached.
 */
import { createWriteStream, fstat, readdirSync, rmSync, type Stats } from 'node:fs'
import { lstat, realpath, rename, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { finished } from 'node:stream/promises'
import type { ResolvedConfig } from '../config/types.js'
import { asFileSystemError, ConfigError } from '../errors.js'
import { HeapBudget, HeapGuard } from '../heap.js'
import type { LogReader, PartitionRange } from '../kafka/log-reader.js'
import type { KafkaRecord } from '../kafka/record.js'
import { isAlive } from '../process-alive.js'
import { SqliteStateStore, STATE_FILE_RESUME_ADVICE } from '../stores/sqlite-state-store.js'
import { partitionKey, type StateStore } from '../stores/state-store.js'
import { type FoldProgress, fold, type SkippedRecord } from './fold.js'
import { describeOrdering, emptyOrderingReport, mergeByTimestamp, type OrderingReport } from './merge.js'
import { parallelFold, parallelism, type StateFiles } from './parallel-fold.js'
import type { Reducer, ReducerEvent } from './reducer.js'

export interface ReplayRequest {
  reader: Pick<LogReader, 'read'>
  topics: string[]
  /**
   * Every partition of `topics` from its first offset to the end fixed by the caller (once, for
   * what it shows and what runs): a resumed replay starts each at its stored offset instead.
   */
  ranges: PartitionRange[]
  reducer: Reducer
  store: StateStore
  decode: (record: KafkaRecord) => ReducerEvent | Promise<ReducerEvent>
  /** Discard stored state and start at each partition's first offset. */
  fromBeginning: boolean
  aggregate?: string
  onTrace?: (event: ReducerEvent, state: unknown) => void
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  checkpointEvents?: number
  /** The aggregate id is the record key read as UTF-8 text (so a key's records are one aggregate's). */
  aggregateIdIsKeyText?: boolean
  /**
   * Fold partition groups in worker threads when this replay allows it (one topic, aggregate id =
   * record key, a fresh start, no --aggregate): `workers` forces a count (1: never), otherwise
   * one per core for replays of at least `minRecords` records.
   */
  parallel?: {
    config: ResolvedConfig
    service?: string
    reducer: string
    workers?: number
    minRecords?: number
    /** Whether the states are read after the replay (else an in-memory parallel replay only counts them). */
    collect?: boolean
    /**
     * Temporary states: each worker folds into its own state file named by its index (bounded
     * memory; the caller reads them all back) instead of `store`, which only a single-threaded
     * fold uses. Parallel by default then, as in memory.
     */
    stateFiles?: StateFiles
  }
}

export interface PartitionReach {
  topic: string
  partition: number
  /** Where this run started reading. */
  start: number
  /** The end fixed at start (exclusive). */
  end: number
  /** Where reading stopped: equal to `end` when the replay is complete. */
  reached: number
}

export interface ReplaySummary {
  complete: boolean
  state: string
  reducer: string
  topics: string[]
  /** Continued from stored offsets rather than starting over. */
  resumed: boolean
  /** Threads that folded (1, or one per partition group in parallel replays). */
  workers: number
  events: number
  aggregates: number
  skippedCount: number
  skipped: SkippedRecord[]
  durationMs: number
  eventsPerSecond: number
  partitions: PartitionReach[]
  /** Several topics: what the order across them had to decide (src/replay/merge.ts). */
  ordering?: OrderingReport
}

export async function runReplay(request: ReplayRequest): Promise<ReplaySummary> {
  const { reader, store, reducer, topics } = request
  const identity = { reducer: reducer.identity, topics }
  const opened = await store.open(identity, { fresh: request.fromBeginning })
  const resumed = opened.offsets.size > 0
  const ranges: PartitionRange[] = request.ranges.map((range) =>
    resumeRange(
      range,
      opened.offsets.get(partitionKey(range.topic, range.partition)),
      request.onWarning,
      store.location,
    ),
  )
  const startOffsets = new Map(ranges.map((r) => [partitionKey(r.topic, r.partition), r.start]))
  const total = ranges.reduce((sum, r) => sum + Math.max(0, (r.end ?? r.start) - r.start), 0)

  // A state file of the replay's own: every thread folds into it (parallel-fold.ts, sharedFile).
  const stateFile = store instanceof SqliteStateStore ? store : undefined
  const workers =
    request.parallel && !resumed && request.aggregate === undefined && topics.length === 1
      ? request.parallel.workers !== undefined ||
        // A state file of the replay's own: one thread unless asked (threads sharing it are
        // faster, 3.9-4.1 s instead of 5.6-7.2 s for 1M events here, but each has its heap: peak
        // RSS ~280 MB instead of ~210 MB).
        (stateFile === undefined && total >= (request.parallel.minRecords ?? 200_000))
        ? parallelism(ranges, request.parallel.workers)
        : 1
      : 1
  // A state file commits every 5 s (fold.ts) and when its cache is full of changed states; a count
  // of events would only add commits to fast replays, each writing every changed state and
  // trimming the cache, whose states are then read again (1M sample events: 4.39 → 3.86 s,
  // medians of 5 alternating, against commits every 500,000 events). A kill redoes ≤ 5 s.
  const checkpointEvents = request.checkpointEvents ?? Number.POSITIVE_INFINITY
  const inMemory = store.location === 'memory'
  const merged = topics.length > 1 ? mergeAcrossTopics(request, reader, ranges) : undefined
  const result = await (workers > 1 && request.parallel
    ? parallelFold({
        workers,
        config: request.parallel.config,
        service: request.parallel.service,
        reducer: request.parallel.reducer,
        ranges,
        startOffsets,
        total,
        store,
        onError: request.onError,
        checkpointEvents,
        collect: request.parallel.collect ?? true,
        stateFiles: request.parallel.stateFiles,
        sharedFile: stateFile && { path: stateFile.location, identity, cache: stateFile.cacheBound },
        onProgress: request.onProgress,
      })
    : fold({
        // Several topics (one per event type): one order across them (version, then time).
        batches: merged ? merged.batches : reader.read(ranges),
        total,
        startOffsets,
        decode: merged ? merged.decode : request.decode,
        reducer,
        reducerLabel: reducer.name,
        store,
        onError: request.onError,
        aggregate: request.aggregate,
        onTrace: request.onTrace,
        onProgress: request.onProgress,
        checkpointEvents,
        heapGuard: inMemory ? { guard: new HeapGuard() } : undefined,
        heapBudget: inMemory ? undefined : new HeapBudget(),
        // A state file's own fold of one topic keyed by aggregate: in rounds past its cache.
        rounds:
          stateFile && !merged && request.aggregateIdIsKeyText && request.aggregate === undefined
            ? { dir: spillDir(stateFile.location), topic: topics[0], capacity: () => stateFile.cacheCapacity() }
            : undefined,
      })
  ).catch((error: unknown) => {
    // A full disk (the state file, or the rounds beside it): the file keeps its last commit.
    throw stateFile === undefined
      ? error
      : asFileSystemError(error, `state file ${stateFile.location}`, STATE_FILE_RESUME_ADVICE)
  })

  const partitions = ranges.map((range) => ({
    topic: range.topic,
    partition: range.partition,
    start: range.start,
    end: range.end ?? range.start,
    reached: result.offsets.get(partitionKey(range.topic, range.partition)) ?? range.start,
  }))
  if (merged) for (const line of describeOrdering(merged.report)) request.onWarning?.(line)
  return {
    ...(merged ? { ordering: merged.report } : {}),
    complete: partitions.every((p) => p.reached >= p.end),
    state: store.location,
    reducer: reducer.name,
    topics,
    resumed,
    workers,
    events: result.events,
    aggregates: result.aggregates ?? store.size,
    skippedCount: result.skippedCount,
    skipped: result.skipped,
    durationMs: result.durationMs,
    eventsPerSecond: result.durationMs > 0 ? Math.round((result.events * 1000) / result.durationMs) : result.events,
    partitions,
  }
}

/**
 * Where a fold in rounds keeps the records of a round: beside the state file (the disk chosen for
 * it), named by the process; the directories of processes that are gone (killed) are removed.
 */
function spillDir(stateFile: string): string {
  const prefix = `${basename(stateFile)}.rounds-`
  for (const name of readdirSafe(dirname(stateFile))) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(name.slice(prefix.length))
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      rmSync(join(dirname(stateFile), name), { recursive: true, force: true })
    }
  }
  return `${stateFile}.rounds-${process.pid}`
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/**
 * The merge orders records by their aggregate and version, so it decodes them: each decoded event
 * is kept for the fold, which takes it instead of decoding the record again.
 */
function mergeAcrossTopics(request: ReplayRequest, reader: ReplayRequest['reader'], ranges: PartitionRange[]) {
  const decoded = new WeakMap<KafkaRecord, ReducerEvent>()
  const report = emptyOrderingReport()
  const orderKey = async (record: KafkaRecord) => {
    const event = await request.decode(record)
    decoded.set(record, event)
    return event.aggregateId === undefined || event.aggregateId === null
      ? undefined
      : { aggregateId: String(event.aggregateId), version: event.version }
  }
  const decode = (record: KafkaRecord) => {
    const event = decoded.get(record)
    if (event === undefined) return request.decode(record)
    decoded.delete(record)
    return event
  }
  return { batches: mergeByTimestamp(reader.read(ranges), ranges, { orderKey, report }), decode, report }
}

/**
 * Where a resumed partition starts: the stored offset, checked against the log. Below the log
 * start, records were lost to retention (warned: the state misses them); past the end, the topic
 * was truncated or recreated (refused: the state describes another log).
 */
function resumeRange(
  range: PartitionRange,
  stored: number | undefined,
  warn: ((message: string) => void) | undefined,
  location: string,
): PartitionRange {
  if (stored === undefined) return range
  const end = range.end ?? range.start
  if (stored < range.start) {
    warn?.(
      `${range.topic}/${range.partition}: stored offset ${stored} is below the log start ${range.start}; ${range.start - stored} offsets were lost to retention and are missing from the state`,
    )
    return range
  }
  if (stored > end) {
    throw new ConfigError(
      `state ${location} has read ${range.topic}/${range.partition} up to ${stored}, past the log end ${end}: the topic was truncated or recreated`,
      {
        code: 'STATE_AHEAD_OF_LOG',
        where: { topic: range.topic, partition: range.partition, stored, end },
        suggestion: 'replay with --from-beginning',
      },
    )
  }
  return { ...range, start: stored }
}

/**
 * Writes the final state: NDJSON (`{"aggregateId","state"}` per line) for `-` (stdout) and
 * .ndjson/.jsonl, else one JSON object. A regular file (or a new path) is written atomically: a
 * temporary file beside it, then a rename, through a symlink onto its target. Anything else (a
 * device such as /dev/stdout, a FIFO, a dangling symlink) is written through, never replaced.
 */
export async function writeState(file: string, entries: Iterable<[string, unknown]>): Promise<number> {
  if (file === '-') return writeEntries(process.stdout, true, entries)
  const ndjson = /\.(ndjson|jsonl)$/i.test(file)
  const target = await atomicTarget(file)
  // Our own stdout or stderr by another name (/dev/stdout, /proc/self/fd/1): written as a stream,
  // since a socket behind it (a parent's pipe) cannot be opened by path.
  const own = target === undefined ? await ownStream(file) : undefined
  if (own !== undefined) return writeEntries(own, ndjson, entries)
  const out = createWriteStream(target === undefined ? file : `${target}.tmp-${process.pid}`)
  const count = await writeEntries(out, ndjson, entries)
  out.end()
  await finished(out)
  if (target !== undefined) await rename(`${target}.tmp-${process.pid}`, target)
  return count
}

/** The path to replace atomically (a regular file's real path, or a new path), else undefined. */
async function atomicTarget(file: string): Promise<string | undefined> {
  const stats = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (stats !== undefined) return stats.isFile() ? realpath(file) : undefined
  // Missing: a new path, unless it is a symlink to nothing (written through, creating its target).
  const link = await lstat(file).catch(() => undefined)
  return link === undefined ? file : undefined
}

async function ownStream(file: string): Promise<NodeJS.WritableStream | undefined> {
  const stats = await stat(file).catch(() => undefined)
  if (stats === undefined) return undefined
  for (const [fd, stream] of [
    [1, process.stdout],
    [2, process.stderr],
  ] as const) {
    const own = await new Promise<Stats | undefined>((resolve) =>
      fstat(fd, (error, s) => resolve(error ? undefined : s)),
    )
    if (own !== undefined && own.dev === stats.dev && own.ino === stats.ino) return stream
  }
  return undefined
}

async function writeEntries(
  out: NodeJS.WritableStream,
  ndjson: boolean,
  entries: Iterable<[string, unknown]>,
): Promise<number> {
  let count = 0
  // Lines are gathered into ~1 MiB chunks: one write (and one await) per chunk, not per aggregate.
  let chunk = ndjson ? '' : '{\n'
  const flush = async () => {
    if (chunk.length > 0 && !out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    chunk = ''
  }
  for (const [aggregateId, state] of entries) {
    chunk += ndjson
      ? `${JSON.stringify({ aggregateId, state })}\n`
      : `${count > 0 ? ',\n' : ''}  ${JSON.stringify(aggregateId)}: ${JSON.stringify(state)}`
    count++
    if (chunk.length >= 1 << 20) await flush()
  }
  if (!ndjson) chunk += count > 0 ? '\n}\n' : '}\n'
  await flush()
  return count
}
