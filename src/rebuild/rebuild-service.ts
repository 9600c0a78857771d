/**
 * `es rebuild-projection`: replay a projection from offset 0 and replace its read model with the
 * result, with no half-written state ever visible.
 *
 * Steps, each before anything is changed that the next could not undo:
 * 1. The plan: the read model (opened now: unreachable or missing fails here), the ranges to
 *    replay with their ends fixed, the time span of the events, and for `--handoff-group` the
 *    group's state and committed offsets. `--dry-run` stops here.
 * 2. Confirmation (a terminal prompt unless `--yes`); a group with active members is refused.
 * 3. Replay exactly the ranges of the plan (fixed once: events that arrive while the operator
 *    reads the plan are not rebuilt) into state files (bounded memory); then a shadow table (the
 *    live table's definition) is filled next to the live one, streaming the states in id order,
 *    `batchRows` at a time. A failure drops the shadow: the live table was never touched.
 * 4. One transaction swaps the shadow in; the old table is dropped, or kept with `--keep-old`.
 * 5. `--handoff-group`: the group's committed offsets become the replay's end offsets, so the live
 *    projector continues exactly after the last event the rebuilt table holds.
 */
import type { ReadModelSpec, ResolvedConfig } from '../config/types.js'
import { ConfigError, NotFoundError, UsageError } from '../errors.js'
import { describeGroupOffsets, type GroupOffsets, groupHasMembers, setGroupOffsets } from '../kafka/groups.js'
import { type LogReader, type PartitionRange, recordTimestamps } from '../kafka/log-reader.js'
import { fixRanges, projectionWithReadModel } from '../projections/projection.js'
import { replayProjectionStates } from '../projections/states.js'
import { openPostgresRebuildTarget } from '../read-models/postgres-read-model.js'
import type { RebuildableReadModel } from '../read-models/read-model.js'
import { openSqliteRebuildTarget } from '../read-models/sqlite-read-model.js'
import { tableRowBatches } from '../read-models/table-rows.js'
import type { FoldProgress } from '../replay/fold.js'
import type { ReplaySummary } from '../replay/run.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import type { CacheBound } from '../stores/state-cache.js'

export interface RebuildRequest {
  config: ResolvedConfig
  service?: string
  projection?: string
  keepOld: boolean
  dryRun: boolean
  handoffGroup?: string
  /** Put back the table kept by the last `--keep-old` rebuild instead (no replay). */
  rollback?: boolean
  /** Asked after the plan unless undefined (`--yes`): false cancels. */
  confirm?: (plan: RebuildPlan) => Promise<boolean>
  onPlan?: (plan: RebuildPlan) => void
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  runtime?: RuntimeOptions
  /** Rows per shadow write. Default 5000. */
  batchRows?: number
  /** The replay's state file (`--state`), continued; default temporary files. */
  state?: string
  cache?: CacheBound
  /** Folding threads (`--workers`; default one per core for large replays, 1: none). */
  workers?: number
}

export interface RebuildPlan {
  projection: string
  reducer: string
  topics: string[]
  target: string
  shadow: string
  keepOld: boolean
  /** Records to replay (sum over partitions of end − start), ends fixed now. */
  events: number
  partitions: Array<{ topic: string; partition: number; start: number; end: number }>
  /** Timestamps of the first and last records in range (ISO), when there are any. */
  from?: string
  until?: string
  handoff?: GroupOffsets
  /** With rollback: the kept table put back in place (the current one is kept in turn). */
  restore?: string
}

export interface RebuildResult {
  plan: RebuildPlan
  /** False for --dry-run or a declined confirmation: nothing was changed. */
  rebuilt: boolean
  rows?: number
  /** State fields without a column (not written). */
  unmapped?: string[]
  kept?: string
  /** With rollback: the kept table that is live again. */
  restored?: string
  replay?: ReplaySummary
  handoff?: { group: string; offsets: Array<{ topic: string; partition: number; offset: number }> }
}

export async function rebuildProjection(request: RebuildRequest): Promise<RebuildResult> {
  const runtime = openRuntime(request.config, request.service, request.runtime)
  const { service } = runtime
  try {
    const source = await projectionWithReadModel(service, request.projection, 'rebuild-projection')
    const { projection, topics } = source
    const target = await openRebuildTarget(projection.readModel, source.readModelPath)
    try {
      if (request.rollback) return await rollback(request, projection.name, projection.reducer, topics, target)
      // Fixed once: the plan shows these ranges and the replay folds exactly these.
      const ranges = await fixRanges(runtime.reader, topics)
      const span = await timeSpan(runtime.reader, ranges)
      const plan: RebuildPlan = {
        projection: projection.name,
        reducer: projection.reducer,
        topics,
        target: target.label,
        shadow: target.shadowName,
        keepOld: request.keepOld,
        events: ranges.reduce((sum, r) => sum + Math.max(0, (r.end ?? r.start) - r.start), 0),
        partitions: ranges.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          start: r.start,
          end: r.end ?? r.start,
        })),
        ...span,
      }
      if (request.handoffGroup !== undefined) {
        plan.handoff = await describeGroupOffsets(request.config.kafka, request.handoffGroup, topics)
      }
      request.onPlan?.(plan)
      if (request.dryRun) return { plan, rebuilt: false }
      if (plan.handoff && plan.handoff.members > 0) throw groupHasMembers(plan.handoff)
      if (request.confirm && !(await request.confirm(plan))) return { plan, rebuilt: false }

      const mapping = 'columns' in projection.readModel ? projection.readModel.columns : undefined
      const table = { columns: target.columns, key: target.key, mapping }
      const batchRows = request.batchRows ?? 5000
      const encodedWrites = target.encodedWrites
      const states = await replayProjectionStates({
        runtime,
        source,
        ranges,
        state: request.state,
        cache: request.cache,
        workers: request.workers,
        // The threads whose states stay in memory encode their rows for the target themselves.
        encodeRows: encodedWrites && { encoding: encodedWrites.encoding, table, batchRows },
        onError: request.onError,
        onProgress: request.onProgress,
        onWarning: request.onWarning,
      })
      const { replay } = states
      let written = 0
      const unmapped = new Set<string>(states.encoded.unmapped)
      try {
        await target.createShadow()
        const writing: Array<Promise<void>> = []
        try {
          // Writes in flight (the target's parallelWrites) while the next batch is made: the
          // server takes in COPY rows while ours are built. The oldest is awaited before another
          // starts, and all before the swap, so a failed write still ends here and drops the shadow.
          const inFlight = Math.max(1, target.parallelWrites ?? 1)
          const start = async (count: number, write: () => Promise<void>) => {
            if (count === 0) return
            if (writing.length >= inFlight) await writing.shift()
            const inProgress = write().then(() => {
              written += count
            })
            // Awaited at a later write or below; until then its failure is not unhandled.
            inProgress.catch(() => {})
            writing.push(inProgress)
          }
          for (const chunk of states.encoded.chunks) await start(chunk.count, () => encodedWrites!.write(chunk))
          for (const rows of tableRowBatches(states.rows(), table, batchRows, unmapped)) {
            await start(rows.length, () => target.writeShadow(rows))
          }
          // All settled before the shadow is dropped or swapped: none may still be writing.
          const settled = await Promise.allSettled(writing)
          const failed = settled.find((outcome) => outcome.status === 'rejected')
          if (failed) throw (failed as PromiseRejectedResult).reason
        } catch (error) {
          // No write may still be going on in the shadow when it is dropped.
          await Promise.allSettled(writing)
          await target.dropShadow().catch(() => {})
          throw error
        }
      } finally {
        await states.close()
      }
      let handoff: RebuildResult['handoff']
      if (request.handoffGroup !== undefined) {
        // Checked again right before the swap: a projector started meanwhile would commit over us.
        const now = await describeGroupOffsets(request.config.kafka, request.handoffGroup, topics)
        if (now.members > 0) {
          await target.dropShadow().catch(() => {})
          throw groupHasMembers(now)
        }
      }
      const { kept } = await target.swapShadow({ keepOld: request.keepOld })
      if (request.handoffGroup !== undefined) {
        const offsets = replay.partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.reached }))
        await setGroupOffsets(request.config.kafka, request.handoffGroup, offsets)
        handoff = { group: request.handoffGroup, offsets }
      }
      return { plan, rebuilt: true, rows: written, unmapped: [...unmapped].sort(), kept, replay, handoff }
    } finally {
      await target.close()
    }
  } finally {
    await runtime.close()
  }
}

async function openRebuildTarget(spec: ReadModelSpec, where: string): Promise<RebuildableReadModel> {
  switch (spec.type) {
    case 'sqlite':
      return openSqliteRebuildTarget(spec)
    case 'postgres':
      return openPostgresRebuildTarget(spec)
    default:
      throw new ConfigError(
        `a ${spec.type} read model cannot be rebuilt by es: it is written by its own service (${where})`,
        {
          code: 'READ_MODEL_NOT_REBUILDABLE',
          where: { path: where },
          suggestion: 'es rebuilds sqlite and postgres tables; es diff still compares this one',
        },
      )
  }
}

/** The timestamps of the first and last records in `ranges` (one record read at each end). */
async function timeSpan(
  reader: Pick<LogReader, 'read'>,
  ranges: PartitionRange[],
): Promise<{ from?: string; until?: string }> {
  const busy = ranges.filter((r) => r.end !== undefined && r.end > r.start)
  const times = [
    ...(
      await recordTimestamps(reader, [
        ...busy.map((r) => ({ ...r, offset: r.start })),
        ...busy.map((r) => ({ ...r, offset: (r.end as number) - 1 })),
      ])
    ).values(),
  ]
  if (times.length === 0) return {}
  return { from: new Date(Math.min(...times)).toISOString(), until: new Date(Math.max(...times)).toISOString() }
}

/** Puts the newest kept table back in place of the live one; the live one is kept in turn. */
async function rollback(
  request: RebuildRequest,
  projection: string,
  reducer: string,
  topics: string[],
  target: RebuildableReadModel,
): Promise<RebuildResult> {
  if (request.handoffGroup !== undefined) {
    throw new UsageError('--rollback cannot hand offsets over: the kept table does not say which events it holds', {
      code: 'USAGE',
    })
  }
  const [newest] = await target.keptTables()
  if (newest === undefined) {
    throw new NotFoundError(`nothing to roll back to: no table was kept next to ${target.label}`, {
      code: 'KEPT_TABLE_NOT_FOUND',
      suggestion: 'rebuild with --keep-old to keep the replaced table',
    })
  }
  const plan: RebuildPlan = {
    projection,
    reducer,
    topics,
    target: target.label,
    shadow: target.shadowName,
    keepOld: true,
    events: 0,
    partitions: [],
    restore: newest,
  }
  request.onPlan?.(plan)
  if (request.dryRun) return { plan, rebuilt: false }
  if (request.confirm && !(await request.confirm(plan))) return { plan, rebuilt: false }
  const { kept } = await target.restore(newest)
  return { plan, rebuilt: true, kept, restored: newest }
}
