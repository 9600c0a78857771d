/**
 * `es checkpoints`: a consumer group's committed offsets checked against the log (assess.ts), with
 * the time of the last event each partition consumed and of the newest one; and a reset of the
 * committed offsets to any position of the offset grammar, a dry run unless `execute`.
 */
import type { KafkaConnection, ResolvedConfig } from '../config/types.js'
import { ConfigError, NotFoundError } from '../errors.js'
import { describeGroupOffsets, type GroupOffsets, groupHasMembers, setGroupOffsets } from '../kafka/groups.js'
import { KafkaLogReader } from '../kafka/kafka-log-reader.js'
import { type LogReader, positionKey, recordTimestamps } from '../kafka/log-reader.js'
import type { StartSpec } from '../kafka/offset-spec.js'
import { projectionWithReadModel } from '../projections/projection.js'
import { openReadModel } from '../read-models/open.js'
import { openRuntime } from '../service/runtime.js'
import {
  assessCheckpoints,
  type CheckpointRow,
  type CheckpointStatus,
  planReset,
  type ResetRow,
  UNSAFE,
} from './assess.js'

export interface CheckpointsRequest {
  connection: KafkaConnection
  reader: Pick<LogReader, 'resolveRanges' | 'read' | 'watermarks' | 'partitions'>
  group: string
  /** Only these topics; default every topic the group has committed offsets for. */
  topics?: string[]
  /** Move the committed offsets here (dry run unless `execute`, or `confirm` says yes). */
  resetTo?: StartSpec
  execute?: boolean
  /** Shown the report with the reset planned (not applied); true applies it. */
  confirm?: (report: CheckpointsReport) => Promise<boolean>
}

export type CheckpointPartition = CheckpointRow & { committedAt?: string; newestAt?: string }

export interface CheckpointsReport {
  group: string
  state: string
  members: number
  partitions: CheckpointPartition[]
  /** Some committed offset is past the log end or below its start. */
  unsafe: boolean
  reset?: { rows: Array<ResetRow & { from?: string; until?: string }>; executed: boolean }
}

/** `es checkpoints --projection`: the offsets a projector keeps in its read model, against the log. */
export interface ProjectionCheckpointsReport {
  projection: string
  /** Where the offsets were read: the read model and its offsets table. */
  readModel: string
  partitions: Array<
    CheckpointPartition & {
      /** With a consumer group too: what the group has committed for this partition. */
      group?: { committed: number | null; status: CheckpointStatus }
    }
  >
  unsafe: boolean
  /** The consumer group compared (the flag, or readModel.offsets.group). */
  group?: { group: string; state: string; members: number }
  /** Partitions where the group's committed offset differs from the read model's. */
  differing: number
}

/** `inspectCheckpoints` with a reader of its own for the config's cluster, closed at the end. */
export async function checkpoints(
  request: Omit<CheckpointsRequest, 'connection' | 'reader'> & {
    config: ResolvedConfig
    debug?: (line: string) => void
  },
): Promise<CheckpointsReport> {
  const reader = new KafkaLogReader(request.config.kafka, { debug: request.debug })
  try {
    return await inspectCheckpoints({ ...request, connection: request.config.kafka, reader })
  } finally {
    await reader.close()
  }
}

export async function inspectCheckpoints(request: CheckpointsRequest): Promise<CheckpointsReport> {
  // A topic named with --topic must exist (near matches otherwise), before asking the group about it.
  for (const topic of request.topics ?? []) await request.reader.partitions(topic)
  const group = await describeGroupOffsets(request.connection, request.group, request.topics)
  const topics = request.topics ?? [...new Set(group.committed.map((c) => c.topic))].sort()
  if (topics.length === 0) {
    throw new NotFoundError(`consumer group ${request.group} has no committed offsets`, {
      code: 'GROUP_NOT_FOUND',
      where: { group: request.group },
      suggestion: 'name the topics with --topic to see them anyway, or check the group id',
    })
  }
  const partitions = await assessWithTimes(request.reader, topics, group.committed)
  const report: CheckpointsReport = {
    group: request.group,
    state: group.state,
    members: group.members,
    partitions,
    unsafe: partitions.some((r) => UNSAFE.has(r.status)),
  }
  if (request.resetTo) {
    report.reset = await planned(request, group, topics)
    if (request.execute || (await request.confirm?.(report))) {
      // Kafka's rule, checked again now: the operator may have taken a while to answer.
      const current = await describeGroupOffsets(request.connection, request.group, topics)
      if (current.members > 0) throw groupHasMembers(current)
      await setGroupOffsets(
        request.connection,
        request.group,
        report.reset.rows.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.target })),
      )
      report.reset.executed = true
    }
  }
  return report
}

/** Offsets (committed or stored) against each partition's log, with the times of the events around them. */
async function assessWithTimes(
  reader: Pick<LogReader, 'read' | 'watermarks'>,
  topics: string[],
  committed: Array<{ topic: string; partition: number; offset: number | null }>,
): Promise<CheckpointPartition[]> {
  const logs = (
    await Promise.all(topics.map(async (topic) => (await reader.watermarks(topic)).map((w) => ({ topic, ...w }))))
  ).flat()
  const rows = assessCheckpoints(logs, committed)
  // The last event consumed (just below the committed offset) and the newest one, per partition.
  const times = await recordTimestamps(reader, [
    ...rows
      .filter((r) => r.committed !== null && r.committed > r.start && r.committed <= r.end)
      .map((r) => ({ ...r, offset: r.committed! - 1 })),
    ...rows.filter((r) => r.end > r.start).map((r) => ({ ...r, offset: r.end - 1 })),
  ])
  return rows.map((r) => ({
    ...r,
    ...timeOf(times, r, r.committed === null ? undefined : r.committed - 1, 'committedAt'),
    ...timeOf(times, r, r.end - 1, 'newestAt'),
  }))
}

/**
 * The offsets a projection's projector keeps in its read model (readModel.offsets), checked
 * against the log of the projection's topics like a group's, and compared with the consumer
 * group's committed offsets when there is one (`group`, or readModel.offsets.group).
 */
export async function projectionCheckpoints(request: {
  config: ResolvedConfig
  service?: string
  projection?: string
  group?: string
  debug?: (line: string) => void
}): Promise<ProjectionCheckpointsReport> {
  const runtime = openRuntime(request.config, request.service, { debug: request.debug })
  try {
    const source = await projectionWithReadModel(runtime.service, request.projection, 'checkpoints --projection')
    const spec = source.projection.readModel
    const offsetsSpec = 'offsets' in spec ? spec.offsets : undefined
    const readModel = await openReadModel(spec, runtime)
    try {
      if (!offsetsSpec || !readModel.storedOffsets) {
        throw new ConfigError(`the read model of projection ${source.projection.name} declares no offsets table`, {
          code: 'NO_OFFSETS_TABLE',
          where: { path: `${source.readModelPath}.offsets` },
          suggestion:
            'add readModel.offsets: {table: projector_offsets} (sqlite or postgres), or check a consumer group: es checkpoints <group>',
        })
      }
      const stored = await readModel.storedOffsets()
      const partitions: ProjectionCheckpointsReport['partitions'] = await assessWithTimes(
        runtime.reader,
        source.topics,
        stored,
      )
      const report: ProjectionCheckpointsReport = {
        projection: source.projection.name,
        readModel: `${readModel.label}, offsets in ${offsetsSpec.table}`,
        partitions,
        unsafe: partitions.some((r) => UNSAFE.has(r.status)),
        differing: 0,
      }
      const groupName = request.group ?? offsetsSpec.group
      if (groupName !== undefined) {
        const group = await describeGroupOffsets(request.config.kafka, groupName, source.topics)
        const logs = partitions.map(({ topic, partition, start, end }) => ({ topic, partition, start, end }))
        const byPartition = new Map(
          assessCheckpoints(logs, group.committed).map((r) => [`${r.topic}/${r.partition}`, r]),
        )
        for (const row of partitions) {
          const other = byPartition.get(`${row.topic}/${row.partition}`)!
          row.group = { committed: other.committed, status: other.status }
          if (other.committed !== row.committed) report.differing++
        }
        report.group = { group: groupName, state: group.state, members: group.members }
      }
      return report
    } finally {
      await readModel.close()
    }
  } finally {
    await runtime.close()
  }
}

/** The reset of the committed offsets to `resetTo`, per partition, with the time span each move covers. */
async function planned(
  request: CheckpointsRequest,
  group: GroupOffsets,
  topics: string[],
): Promise<NonNullable<CheckpointsReport['reset']>> {
  const ranges = await request.reader.resolveRanges(topics, { from: request.resetTo!, until: { kind: 'end' } })
  const planned = planReset(
    group.committed,
    ranges.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.start })),
  )
  // The time span each move covers: the first and last events read again (or skipped).
  const moved = planned.filter((r) => r.replayed !== null && r.replayed !== 0)
  const low = (r: ResetRow) => Math.min(r.committed!, r.target)
  const high = (r: ResetRow) => Math.max(r.committed!, r.target)
  const times = await recordTimestamps(request.reader, [
    ...moved.map((r) => ({ ...r, offset: low(r) })),
    ...moved.map((r) => ({ ...r, offset: high(r) - 1 })),
  ])
  const rows = planned.map((r) => {
    if (r.replayed === null || r.replayed === 0) return r
    return { ...r, ...timeOf(times, r, low(r), 'from'), ...timeOf(times, r, high(r) - 1, 'until') }
  })
  return { rows, executed: false }
}

function timeOf(
  times: Map<string, number>,
  row: { topic: string; partition: number },
  offset: number | undefined,
  field: 'committedAt' | 'newestAt' | 'from' | 'until',
): Record<string, string> {
  if (offset === undefined) return {}
  const time = times.get(positionKey({ topic: row.topic, partition: row.partition, offset }))
  return time === undefined ? {} : { [field]: new Date(time).toISOString() }
}
