/**
 * `es replay` on a configured service: pick the reducer and topics (a projection, or `--reducer`
 * and `--topic`), fix the ranges, open the state store, fold, and optionally write the final state.
 */
import { type FailureGroup, FailureSummary } from '../codecs/failure-summary.js'
import type { ResolvedConfig } from '../config/types.js'
import { UsageError } from '../errors.js'
import type { PartitionRange } from '../kafka/log-reader.js'
import type { EndSpec } from '../kafka/offset-spec.js'
import { keyNotFoundMessage, keyRanges, type PartitionerName } from '../kafka/partitioner.js'
import { fixRanges, foldRanges, replaySource } from '../projections/projection.js'
import { openRuntime, type RuntimeOptions, type ServiceRuntime } from '../service/runtime.js'
import { MemoryStateStore } from '../stores/memory-state-store.js'
import { SqliteStateStore } from '../stores/sqlite-state-store.js'
import type { CacheBound } from '../stores/state-cache.js'
import type { StateStore } from '../stores/state-store.js'
import type { FoldProgress } from './fold.js'
import type { ReducerEvent } from './reducer.js'
import { type ReplaySummary, writeState } from './run.js'

export interface ReplayServiceRequest {
  config: ResolvedConfig
  service?: string
  projection?: string
  reducer?: string
  topics?: string[]
  /** `memory` or a file path. */
  state: string
  /** A file-backed state's cache in memory (default DEFAULT_CACHE). */
  cache?: CacheBound
  fromBeginning: boolean
  until?: EndSpec
  aggregate?: string
  /** How the producer maps keys to partitions (default: the service's): --aggregate reads its partition. */
  partitioner?: PartitionerName
  trace?: (event: ReducerEvent, state: unknown) => void
  out?: string
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  runtime?: RuntimeOptions
  /** Worker threads for the fold (1: none); default: one per core for large fresh replays. */
  workers?: number
}

export interface ReplayServiceResult extends ReplaySummary {
  projection?: string
  /** With --aggregate: that aggregate's final state (null when it does not exist). */
  aggregateState?: unknown
  /** With --out: the file and how many aggregates were written. */
  out?: { file: string; aggregates: number }
  /** Undecodable records skipped, by type and writer schema (from the skipped details). */
  failures?: FailureGroup[]
}

export async function replayService(request: ReplayServiceRequest): Promise<ReplayServiceResult> {
  if (request.aggregate !== undefined && request.state !== 'memory') {
    // A state file holds the fold of whole topics; one aggregate's fold must not overwrite it.
    throw new UsageError('--aggregate folds a single aggregate: use it with --state memory (the default)', {
      code: 'USAGE',
    })
  }
  const runtime = openRuntime(request.config, request.service, request.runtime)
  const store: StateStore =
    request.state === 'memory' ? new MemoryStateStore() : new SqliteStateStore(request.state, { cache: request.cache })
  try {
    const source = await replaySource(runtime.service, request)
    const partitioner = request.partitioner ?? runtime.service.partitioner
    const { ranges, narrowed } = await aggregateRanges(
      runtime,
      await fixRanges(runtime.reader, source.topics, request.until),
      partitioner,
      request.aggregate,
    )
    const summary = await foldRanges({
      runtime,
      source,
      ranges,
      store,
      fromBeginning: request.fromBeginning,
      aggregate: request.aggregate,
      trace: request.trace,
      onError: request.onError,
      onProgress: request.onProgress,
      onWarning: request.onWarning,
      workers: request.workers,
      // Only --out reads the states of a memory replay.
      collect: request.state !== 'memory' || request.out !== undefined,
    })
    const result: ReplayServiceResult = { ...summary, projection: source.projection?.name }
    if (request.aggregate !== undefined && narrowed.length > 0 && summary.complete && summary.events === 0) {
      request.onWarning?.(keyNotFoundMessage(request.aggregate, partitioner, narrowed))
    }
    if (summary.skippedCount > 0) {
      const failures = new FailureSummary()
      for (const skipped of summary.skipped) failures.add(skipped)
      result.failures = failures.list()
    }
    if (request.aggregate !== undefined) result.aggregateState = store.get(request.aggregate) ?? null
    if (request.out) result.out = { file: request.out, aggregates: await writeState(request.out, store.entries()) }
    return result
  } finally {
    await store.close()
    await runtime.close()
  }
}

/**
 * With --aggregate, where the aggregate id is the record key and the partitioner is known: only
 * the partition its key hashes to, per topic.
 */
async function aggregateRanges(
  runtime: ServiceRuntime,
  ranges: PartitionRange[],
  partitioner: PartitionerName,
  aggregate: string | undefined,
): Promise<{ ranges: PartitionRange[]; narrowed: Array<{ topic: string; partition: number }> }> {
  if (aggregate === undefined || partitioner === 'none' || runtime.service.envelope.aggregateId?.trim() !== 'key') {
    return { ranges, narrowed: [] }
  }
  const key = await runtime.keyBytes(aggregate) // null: a codec that cannot encode it, every partition
  return key === null ? { ranges, narrowed: [] } : keyRanges(ranges, partitioner, [key])
}
