/**
 * `es diff`: replay a projection, then compare the state with its live read model, per aggregate.
 *
 * Order matters: the read model is opened first (a wrong table or an unreachable database fails
 * before any replay work), the replay stops at the ends fixed when it starts, and only then are the
 * rows read. A projector that keeps up has therefore applied at least what was replayed: a row can
 * be ahead of the replay (a higher version: reported as ahead, not as drift), never behind it
 * because of timing.
 */
import type { ResolvedConfig } from '../config/types.js'
import { openReadModel } from '../read-models/open.js'
import type { FoldProgress } from '../replay/fold.js'
import { projectionWithReadModel, type ReplayServiceResult, replayReadModelRows } from '../replay/replay-service.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import { type CompareOptions, type DiffResult, diffStates } from './compare.js'

export interface DiffRequest extends Pick<CompareOptions, 'ignore' | 'tolerance' | 'limit'> {
  config: ResolvedConfig
  service?: string
  projection?: string
  /**
   * A state file of `es replay --state`: continued from its stored offsets to the current end (only
   * the new events are folded), then compared. Without it, a fresh replay in memory.
   */
  state?: string
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  runtime?: RuntimeOptions
  workers?: number
}

export interface DiffReport extends DiffResult {
  projection: string
  readModel: string
  replay: ReplayServiceResult
}

export async function diffProjection(request: DiffRequest): Promise<DiffReport> {
  const runtime = openRuntime(request.config, request.service, request.runtime)
  const { service } = runtime
  try {
    const projection = projectionWithReadModel(service, request.projection, 'diff')
    const readModel = await openReadModel(projection.readModel, runtime)
    try {
      const { replay, rows: states } = await replayReadModelRows({
        config: request.config,
        service: request.service,
        projection: projection.name,
        state: request.state ?? 'memory',
        fromBeginning: request.state === undefined,
        onError: request.onError,
        onProgress: request.onProgress,
        onWarning: request.onWarning,
        runtime: request.runtime,
        workers: request.workers,
      })
      const listed = await readModel.list()
      const rows = listed ?? (await readModel.get(states.map(([id]) => id)))
      const columns = 'columns' in projection.readModel ? projection.readModel.columns : undefined
      const result = diffStates(states, rows, listed !== undefined, {
        ignore: request.ignore,
        tolerance: request.tolerance,
        limit: request.limit,
        columns,
        timeZone: projection.readModel.timeZone ?? service.timeZone,
      })
      return { projection: projection.name, readModel: readModel.label, replay, ...result }
    } finally {
      await readModel.close()
    }
  } finally {
    await runtime.close()
  }
}
