/**
 * `es rebuild-projection`: replay a projection from offset 0 and replace its read model with the
 * result, with no half-written state ever visible.
 *
 * Steps, each before anything is changed that the next could not undo:
 * 1. The plan: the read model (opened now: unreachable or missing fails here), the ranges to
 *    replay with their ends fixed, the time span of the events, and for `--handoff-group` the
 *    group's state and committed offsets. `--dry-run` stops here.
 * 2. Confirmation (a terminal prompt unless `--yes`); a group with active members is refused.
 * 3. Replay in memory; then a shadow table (the live table's definition) is filled next to the
 *    live one. A failure drops the shadow: the live table was never touched.
 * 4. One transaction swaps the shadow in; the old table is dropped, or kept with `--keep-old`.
 * 5. `--handoff-group`: the group's committed offsets become the replay's end offsets, so the live
 *    projector continues exactly after the last event the rebuilt table holds.
 */
import type { ReadModelSpec, ResolvedConfig } from '../config/types.js'
import { ConfigError, NotFoundError, UsageError } from '../errors.js'
import { describeGroupOffsets, type GroupOffsets, groupHasMembers, setGroupOffsets } from '../kafka/groups.js'
import { type LogReader, type PartitionRange, recordTimestamps } from '../kafka/log-reader.js'
import { openPostgresRebuildTarget } from '../read-models/postgres-read-model.js'
import type { RebuildableReadModel } from '../read-models/read-model.js'
import { openSqliteRebuildTarget } from '../read-models/sqlite-read-model.js'
import type { FoldProgress } from '../replay/fold.js'
import { projectionWithReadModel, type ReplayServiceResult, replayReadModelRows } from '../replay/replay-service.js'
import { resolveTopics } from '../service/resolve.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import { toTableRows } from './table-rows.js'

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
  replay?: ReplayServiceResult
  handoff?: { group: string; offsets: Array<{ topic: string; partition: number; offset: number }> }
}

export async function rebuildProjection(request: RebuildRequest): Promise<RebuildResult> {
  const runtime = openRuntime(request.config, request.service, request.runtime)
  const { service } = runtime
  try {
    const projection = projectionWithReadModel(service, request.projection, 'rebuild-projection')
    const where = `services.${service.name}.projections.${projection.name}.readModel`
    const topics = (projection.source ?? ['events']).flatMap((source) =>
      resolveTopics(service, source, undefined, 'events'),
    )
    const target = await openRebuildTarget(projection.readModel, where)
    try {
      if (request.rollback) return await rollback(request, projection.name, projection.reducer, topics, target)
      const ranges = await runtime.reader.resolveRanges(topics, { from: { kind: 'beginning' }, until: { kind: 'end' } })
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

      const replayed = await replayReadModelRows({
        config: request.config,
        service: request.service,
        projection: projection.name,
        state: 'memory',
        fromBeginning: true,
        onError: request.onError,
        onProgress: request.onProgress,
        onWarning: request.onWarning,
        runtime: request.runtime,
      })
      const { replay } = replayed
      const mapping = 'columns' in projection.readModel ? projection.readModel.columns : undefined
      const { rows, unmapped } = toTableRows(replayed.rows, { columns: target.columns, key: target.key, mapping })
      replayed.rows = []
      await target.createShadow()
      try {
        const batch = request.batchRows ?? 5000
        for (let i = 0; i < rows.length; i += batch) await target.writeShadow(rows.slice(i, i + batch))
      } catch (error) {
        await target.dropShadow().catch(() => {})
        throw error
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
      return { plan, rebuilt: true, rows: rows.length, unmapped, kept, replay, handoff }
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
