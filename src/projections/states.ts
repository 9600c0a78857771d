/**
 * A projection's states as read-model rows, in id order, for `es diff` and
 * `es rebuild-projection`: folded into the operator's state file (`--state FILE`, continued from
 * its stored offsets) or into temporary state files (one per folding thread) — on file either way,
 * so memory stays bounded whatever the number of aggregates — and streamed back.
 */
import type { PartitionRange } from '../kafka/log-reader.js'
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
}

export interface ProjectionStates {
  replay: ReplaySummary
  /** The read-model rows of the states (the reducer's `toReadModel`), in id order, streamed. */
  rows(): Iterable<[string, unknown]>
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
        rows: () => readModelRows(store.entries(), source.reducer),
        close: () => store.close(),
      }
    } catch (error) {
      await store.close()
      throw error
    }
  }
  const temporary = await TemporaryStates.create()
  try {
    const store = temporary.store('main', request.cache)
    let replay: ReplaySummary
    try {
      replay = await foldRanges({
        ...fold,
        store,
        fromBeginning: true,
        stateFiles: (worker) => temporary.file(`worker-${worker}`),
      })
    } finally {
      await store.close()
    }
    return {
      replay,
      rows: () => readModelRows(temporary.entries(), source.reducer),
      close: () => temporary.close(),
    }
  } catch (error) {
    await temporary.close()
    throw error
  }
}
