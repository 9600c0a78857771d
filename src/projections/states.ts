/**
 * A projection's states as read-model rows, in id order, for `es diff` and
 * `es rebuild-projection`: folded into the operator's state file (`--state FILE`, continued from
 * its stored offsets) or into temporary states (one store per folding thread: in memory while
 * they fit the cache bound, on file past it, so memory stays bounded whatever the number of
 * aggregates) — and streamed back.
 */
import { HeapBudget } from '../heap.js'
import type { PartitionRange } from '../kafka/log-reader.js'
import type { EncodedStateRows, RowEncodingSpec } from '../replay/encoded-rows.js'
import type { FoldProgress } from '../replay/fold.js'
import { readModelRows } from '../replay/reducer.js'
import type { ReplaySummary } from '../replay/run.js'
import type { ServiceRuntime } from '../service/runtime.js'
import { SqliteStateStore } from '../stores/sqlite-state-store.js'
import type { CacheBound } from '../stores/state-cache.js'
import { TemporaryStates } from '../stores/temporary-states.js'
import { foldRanges, type ReplaySource } from './projection.js'

export interface ProjectionStatesRequest {
  runtime: ServiceRuntime
  source: ReplaySource
  ranges: PartitionRange[]
  /** A state file of `es replay --state`: continued, not replaced. Default: temporary files. */
  state?: string
  cache?: CacheBound
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  workers?: number
  /**
   * The rows of the folding threads whose states stayed in memory come encoded for the target
   * (`encoded`), made by the threads themselves; the others come from `rows()`. Temporary states only.
   */
  encodeRows?: RowEncodingSpec
}

export interface ProjectionStates {
  replay: ReplaySummary
  /** The read-model rows of the states (the reducer's `toReadModel`), in id order, streamed. */
  rows(): Iterable<[string, unknown]>
  /** The rows the threads encoded (with `encodeRows`), in no particular order; not in `rows()`. */
  encoded: EncodedStateRows
  close(): Promise<void>
}

export async function replayProjectionStates(request: ProjectionStatesRequest): Promise<ProjectionStates> {
  const { source } = request
  const fold = { ...request, collect: true }
  if (request.state !== undefined) {
    const store = new SqliteStateStore(request.state, { cache: request.cache })
    try {
      const replay = await foldRanges({ ...fold, store, fromBeginning: false })
      return {
        replay,
        rows: () => withinHeapBudget(readModelRows(store.entries(), source.reducer)),
        encoded: { chunks: [], unmapped: [] },
        close: () => store.close(),
      }
    } catch (error) {
      await store.close()
      throw error
    }
  }
  const temporary = await TemporaryStates.create()
  const encoded: EncodedStateRows = { chunks: [], unmapped: [] }
  const encode = request.encodeRows && {
    spec: request.encodeRows,
    take: (rows: EncodedStateRows) => {
      encoded.chunks.push(...rows.chunks)
      encoded.unmapped = [...new Set([...encoded.unmapped, ...rows.unmapped])].sort()
    },
  }
  try {
    const store = temporary.store('main', request.cache)
    let replay: ReplaySummary
    try {
      replay = await foldRanges({
        ...fold,
        store,
        fromBeginning: true,
        stateFiles: {
          file: (worker) => temporary.file(`worker-${worker}`),
          hold: (worker, states) => temporary.hold(`worker-${worker}`, states),
          cache: request.cache,
          encode,
        },
      })
    } finally {
      // As a file would give them back (JSON), as the threads' states come (parallel-fold): a row
      // does not depend on whether the states fitted in memory or on how many threads folded.
      const states = await store.release()
      if (states) temporary.hold('main', JSON.parse(JSON.stringify(states)))
    }
    return {
      replay,
      rows: () => withinHeapBudget(readModelRows(temporary.entries(), source.reducer)),
      encoded,
      close: () => temporary.close(),
    }
  } catch (error) {
    await temporary.close()
    throw error
  }
}

/**
 * The rows as they stream, with the heap kept near what is live: the walk allocates per state
 * and the caller passes them on (a diff, a rebuild), as in a file-backed fold.
 */
function* withinHeapBudget<T>(rows: Iterable<T>): Generator<T> {
  const budget = new HeapBudget()
  let walked = 0
  for (const row of rows) {
    if (++walked % 10_000 === 0) budget.check()
    yield row
  }
}
