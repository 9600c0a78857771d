/**
 * `es diff`: replay a projection, then compare the state with its live read model, per aggregate.
 *
 * Order matters: the read model is opened first (a wrong table or an unreachable database fails
 * before any replay work), the replay stops at the ends fixed when it starts, and only then are the
 * rows read. A projector that keeps up has therefore applied at least what was replayed: a row can
 * be ahead of the replay (a higher version: reported as ahead, not as drift), never behind it
 * because of timing.
 *
 * Memory stays bounded: the states are folded into state files (src/projections/states.ts) and
 * compared in aggregate-id order with the read model's rows as they are read, page by page.
 */
import type { ResolvedConfig } from '../config/types.js'
import { fixRanges, projectionWithReadModel } from '../projections/projection.js'
import { replayProjectionStates } from '../projections/states.js'
import { openReadModel } from '../read-models/open.js'
import type { FoldProgress } from '../replay/fold.js'
import type { ReplaySummary } from '../replay/run.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import type { CacheBound } from '../stores/state-cache.js'
import { type CompareOptions, type DiffResult, diffSorted } from './compare.js'

export interface DiffRequest extends Pick<CompareOptions, 'ignore' | 'tolerance' | 'limit'> {
  config: ResolvedConfig
  service?: string
  projection?: string
  /**
   * A state file of `es replay --state`: continued from its stored offsets to the current end (only
   * the new events are folded), then compared. Without it, a fresh replay into temporary files.
   */
  state?: string
  cache?: CacheBound
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  runtime?: RuntimeOptions
  workers?: number
}

export interface DiffReport extends DiffResult {
  projection: string
  readModel: string
  replay: ReplaySummary
}

export async function diffProjection(request: DiffRequest): Promise<DiffReport> {
  const runtime = openRuntime(request.config, request.service, request.runtime)
  try {
    const source = await projectionWithReadModel(runtime.service, request.projection, 'diff')
    const { projection } = source
    const readModel = await openReadModel(projection.readModel, runtime)
    try {
      const ranges = await fixRanges(runtime.reader, source.topics)
      const states = await replayProjectionStates({ ...request, runtime, source, ranges })
      try {
        const result = await diffSorted(
          states.rows(),
          { scan: await readModel.scan(), get: (ids) => readModel.get(ids) },
          readModel.label,
          {
            ignore: request.ignore,
            tolerance: request.tolerance,
            limit: request.limit,
            columns: 'columns' in projection.readModel ? projection.readModel.columns : undefined,
            timeZone: projection.readModel.timeZone ?? runtime.service.timeZone,
          },
        )
        return { projection: projection.name, readModel: readModel.label, replay: states.replay, ...result }
      } finally {
        await states.close()
      }
    } finally {
      await readModel.close()
    }
  } finally {
    await runtime.close()
  }
}
