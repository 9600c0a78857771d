/**
 * Folding partition groups in parallel, one worker thread per group, for fresh replays of one
 * topic whose aggregate id is the record key (so no aggregate spans two partitions and groups
 * never touch the same aggregate).
 *
 * Each worker has its own reader, decoder and reducer, and folds its ranges (ends fixed by the
 * main thread before any worker starts) into one of:
 * - a private map (in memory): at the end it posts its states, which the main thread puts in its
 *   store;
 * - its own temporary state file (`stateFiles`, the fold of diff and rebuild): it posts counts
 *   and positions, the caller reads the files;
 * - the replay's state file, shared by every worker (`sharedFile`): each commits its partitions'
 *   offsets with its own states, so every commit is a consistent cut of its partitions and a
 *   killed replay resumes correctly (single-threaded).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { ResolvedConfig } from '../config/types.js'
import { fromThreadError, InternalError, type ThreadError } from '../errors.js'
import { SHARED_HEAP_FLOOR_BYTES } from '../heap.js'
import type { PartitionRange } from '../kafka/log-reader.js'
import { packageFile } from '../package-root.js'
import { type CacheBound, DEFAULT_CACHE } from '../stores/state-cache.js'
import { type PartitionOffsets, partitionKey, type StateIdentity, type StateStore } from '../stores/state-store.js'
import type { EncodedStateRows, RowEncodingSpec } from './encoded-rows.js'
import type { FoldProgress, FoldResult, SkippedRecord } from './fold.js'

/** What the main thread sends a worker. */
export interface FoldWorkerInput {
  config: ResolvedConfig
  service?: string
  reducer: string
  ranges: PartitionRange[]
  onError: 'fail' | 'skip'
  /** A worker folding into a state file commits at least every this many events. */
  checkpointEvents: number
  /**
   * False: nobody reads the states after this in-memory replay (no --out, no diff): the worker
   * reports how many aggregates it folded instead of copying them all to the main thread.
   */
  collect: boolean
  /**
   * Fold into this state file (fresh, with this share of the replay's cache) instead of memory:
   * the caller reads the states from the workers' files afterwards (TemporaryStates); nothing is
   * posted but counts.
   */
  /**
   * `cache`: the replay's whole bound of states in memory, `inMemory` the count of them all the
   * workers hold (shared); `fileCache`: this worker's share of the bound once on file.
   */
  stateFile?: { path: string; cache: CacheBound; inMemory: Int32Array; fileCache: CacheBound; heapFloorBytes: number }
  /**
   * Fold into the replay's own state file, which every worker shares (SqliteStateStore `shared`):
   * each commits its partitions' offsets with its states, so a killed replay resumes from a
   * consistent file; nothing is posted but counts.
   */
  sharedFile?: { path: string; identity: StateIdentity; cache: CacheBound; heapFloorBytes: number }
  /** With stateFile: states that stayed in memory are posted as these encoded rows instead (encoded-rows.ts). */
  encodeRows?: RowEncodingSpec
}

/** Temporary state files, one per worker, sharing one cache bound (default DEFAULT_CACHE). */
export interface StateFiles {
  file: (worker: number) => string
  /** Takes the states of a worker that never went to its file, in id order. */
  hold: (worker: number, states: Array<[string, unknown]>) => void
  cache?: CacheBound
  /**
   * A worker whose states stayed in memory encodes them as these rows itself and hands them to
   * `take` (nothing is held for it); a worker whose states went to its file is read back as usual.
   */
  encode?: { spec: RowEncodingSpec; take: (rows: EncodedStateRows) => void }
}

/** A worker's share of the replay's cache bound: the bound is for the whole replay. */
function shareOf(bound: CacheBound, workers: number): CacheBound {
  return 'states' in bound
    ? { states: Math.max(1, Math.ceil(bound.states / workers)) }
    : { bytes: Math.max(1 << 20, Math.ceil(bound.bytes / workers)) }
}

/** What a worker posts back. */
export type FoldWorkerMessage =
  | { kind: 'checkpoint'; changes: Array<[string, unknown]>; offsets: Array<[string, number]> }
  | { kind: 'progress'; done: number; events: number }
  | {
      kind: 'done'
      events: number
      skippedCount: number
      skipped: SkippedRecord[]
      aggregates: number
      /** Where each of its partitions was read to (its state file holds exactly that). */
      offsets: Array<[string, number]>
      /**
       * Its states in id order as JSON text, when they never left memory (no state file was
       * written): what its file would have held, so a row does not depend on whether states
       * spilled, and one string crosses threads at a fraction of the cost of 100,000 objects
       * (structured clone: ≈0.6 s of the main thread per 100k bank states; JSON ≈0.1 s).
       */
      statesJson?: string
      /** Instead of statesJson when the caller asked for encoded rows (StateFiles.encode). */
      encodedRows?: EncodedStateRows
    }
  | ({ kind: 'error' } & ThreadError)

export interface ParallelFoldOptions {
  workers: number
  config: ResolvedConfig
  service?: string
  reducer: string
  ranges: PartitionRange[]
  startOffsets: PartitionOffsets
  total: number
  store: StateStore
  onError: 'fail' | 'skip'
  checkpointEvents: number
  /** Copy the folded states into `store` (see FoldWorkerInput.collect). Default true. */
  collect?: boolean
  /** Each worker folds into its own state file (FoldWorkerInput.stateFile) named by its index. */
  stateFiles?: StateFiles
  /**
   * `store` is this state file, opened fresh: every worker folds into it (FoldWorkerInput.sharedFile);
   * the store is closed while they do and opened again after.
   */
  sharedFile?: { path: string; identity: StateIdentity; cache: CacheBound }
  onProgress?: (progress: FoldProgress) => void
}

/** How many workers to use: one per core, at most 4, at most one per partition with records. */
export function parallelism(ranges: PartitionRange[], requested?: number): number {
  const busy = ranges.filter((r) => (r.end ?? r.start) > r.start).length
  return Math.max(1, Math.min(requested ?? Math.min(availableParallelism(), 4), busy))
}

/** Splits ranges into `count` groups of similar record counts (largest first, into the lightest group). */
export function groupRanges(ranges: PartitionRange[], count: number): PartitionRange[][] {
  const groups = Array.from({ length: count }, () => ({ size: 0, ranges: [] as PartitionRange[] }))
  const sorted = [...ranges].sort((a, b) => (b.end ?? b.start) - b.start - ((a.end ?? a.start) - a.start))
  for (const range of sorted) {
    const lightest = groups.reduce((min, g) => (g.size < min.size ? g : min))
    lightest.ranges.push(range)
    lightest.size += (range.end ?? range.start) - range.start
  }
  return groups.filter((g) => g.ranges.length > 0).map((g) => g.ranges)
}

export async function parallelFold(options: ParallelFoldOptions): Promise<FoldResult> {
  const started = Date.now()
  const offsets: PartitionOffsets = new Map(options.startOffsets)
  const groups = groupRanges(options.ranges, options.workers)
  const progress = groups.map(() => ({ done: 0, events: 0 }))
  const skipped: SkippedRecord[] = []
  let skippedCount = 0
  let events = 0
  let aggregates = 0
  let lastProgress = 0
  // Checkpoints are applied strictly one after another, in arrival order.
  let applying: Promise<void> = Promise.resolve()
  const workers: Worker[] = []
  // The states all workers hold in memory (temporary state files): one bound for the replay.
  const inMemory = new Int32Array(new SharedArrayBuffer(4))

  // Each worker's share of the heap floor of states on file.
  const heapFloorBytes = Math.floor(SHARED_HEAP_FLOOR_BYTES / groups.length)

  const runGroup = (ranges: PartitionRange[], index: number) =>
    new Promise<void>((resolve, reject) => {
      const input: FoldWorkerInput = {
        config: options.config,
        service: options.service,
        reducer: options.reducer,
        ranges,
        onError: options.onError,
        checkpointEvents: options.checkpointEvents,
        collect: options.collect ?? true,
        stateFile: options.stateFiles && {
          path: options.stateFiles.file(index),
          cache: options.stateFiles.cache ?? DEFAULT_CACHE,
          inMemory,
          fileCache: shareOf(options.stateFiles.cache ?? DEFAULT_CACHE, groups.length),
          heapFloorBytes,
        },
        encodeRows: options.stateFiles?.encode?.spec,
        sharedFile: options.sharedFile && {
          ...options.sharedFile,
          cache: shareOf(options.sharedFile.cache, groups.length),
          heapFloorBytes,
        },
      }
      // A larger young generation: folding allocates short-lived objects per event, and fewer
      // scavenges cost less than frequent ones that promote still-live states.
      const worker = new Worker(packageFile('dist/src/replay/fold-worker.js'), {
        workerData: input,
        resourceLimits: { maxYoungGenerationSizeMb: 32 },
      })
      workers.push(worker)
      let finished = false
      worker.on('message', (message: FoldWorkerMessage) => {
        switch (message.kind) {
          case 'checkpoint':
            applying = applying.then(async () => {
              for (const [id, state] of message.changes) {
                if (state === null) options.store.delete(id)
                else options.store.set(id, state)
              }
              for (const [key, offset] of message.offsets) offsets.set(key, offset)
              await options.store.commit(offsets)
            })
            applying.catch(reject)
            break
          case 'progress': {
            progress[index] = { done: message.done, events: message.events }
            const now = Date.now()
            if (options.onProgress && now - lastProgress >= 200) {
              lastProgress = now
              options.onProgress({
                events: progress.reduce((s, p) => s + p.events, 0),
                done: progress.reduce((s, p) => s + p.done, 0),
                total: options.total,
                elapsedMs: now - started,
              })
            }
            break
          }
          case 'done':
            finished = true
            // A worker folding into a state file posts no checkpoints: its positions come here.
            if (options.stateFiles || options.sharedFile)
              for (const [key, offset] of message.offsets) offsets.set(key, offset)
            if (message.statesJson !== undefined) options.stateFiles?.hold(index, JSON.parse(message.statesJson))
            if (message.encodedRows !== undefined) options.stateFiles?.encode?.take(message.encodedRows)
            events += message.events
            aggregates += message.aggregates
            skippedCount += message.skippedCount
            skipped.push(...message.skipped)
            progress[index] = { done: progress[index].done, events: message.events }
            resolve()
            break
          case 'error':
            finished = true
            reject(fromThreadError(message))
            break
        }
      })
      worker.on('error', (error) => {
        finished = true
        reject(new InternalError(`replay worker failed: ${error.message}`, { code: 'WORKER_FAILED', cause: error }))
      })
      worker.on('exit', (code) => {
        if (!finished) reject(new InternalError(`replay worker exited with code ${code}`, { code: 'WORKER_FAILED' }))
      })
    })

  if (options.sharedFile) await options.store.close()
  try {
    await Promise.all(groups.map(runGroup))
    await applying
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  // The workers' commits are in the file: its offsets and count as they left them.
  if (options.sharedFile) await options.store.open(options.sharedFile.identity, { fresh: false })
  for (const range of options.ranges) {
    const key = partitionKey(range.topic, range.partition)
    if (!offsets.has(key)) offsets.set(key, range.start)
  }
  await options.store.commit(offsets)
  const done = progress.reduce((s, p) => s + p.done, 0)
  options.onProgress?.({ events, done, total: options.total, elapsedMs: Date.now() - started })
  return {
    events,
    skippedCount,
    skipped: skipped.slice(0, 1000),
    offsets,
    durationMs: Date.now() - started,
    // Parallel folds start from an empty store, so the workers' counts are the whole state.
    aggregates,
  }
}
