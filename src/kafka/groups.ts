/**
 * Consumer groups, for handing a rebuilt read model over to its live projector: what a group is
 * doing, and setting its committed offsets (only while it has no members, as Kafka requires).
 */
import type { KafkaConnection } from '../config/types.js'
import { NegativeOutcomeError } from '../errors.js'
import { withAdmin } from './admin-client.js'
import type { ClientOptions } from './connection.js'

export interface GroupOffsets {
  group: string
  /** Kafka's group state: Empty, Stable, PreparingRebalance, Dead (no such group)… */
  state: string
  members: number
  committed: Array<{ topic: string; partition: number; offset: number | null }>
}

/**
 * The group's state, member count and committed offsets on `topics` (null: none committed), or
 * on every topic it has committed offsets for.
 */
export function describeGroupOffsets(
  connection: KafkaConnection,
  group: string,
  topics?: string[],
  options: ClientOptions = {},
): Promise<GroupOffsets> {
  return withAdmin(
    connection,
    `describing consumer group ${group}`,
    async (admin) => {
      const { groups } = await admin.describeGroups([group])
      const description = groups[0]
      const fetched = await admin.fetchOffsets(topics ? { groupId: group, topics } : { groupId: group })
      return {
        group,
        state: description?.state ?? 'Dead',
        members: description?.members.length ?? 0,
        committed: fetched.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.topic,
            partition: p.partition,
            offset: Number(p.offset) >= 0 ? Number(p.offset) : null,
          })),
        ),
      }
    },
    options,
  )
}

/** Commits `offsets` for the group (Kafka refuses while the group has members). */
export function setGroupOffsets(
  connection: KafkaConnection,
  group: string,
  offsets: Array<{ topic: string; partition: number; offset: number }>,
  options: ClientOptions = {},
): Promise<void> {
  return withAdmin(
    connection,
    `setting the offsets of consumer group ${group}`,
    async (admin) => {
      const byTopic = new Map<string, Array<{ partition: number; offset: string }>>()
      for (const o of offsets) {
        const list = byTopic.get(o.topic) ?? []
        list.push({ partition: o.partition, offset: String(o.offset) })
        byTopic.set(o.topic, list)
      }
      for (const [topic, partitions] of byTopic) await admin.setOffsets({ groupId: group, topic, partitions })
    },
    options,
  )
}

/** The refusal to set a group's offsets while it has members (Kafka's rule); nothing was changed. */
export function groupHasMembers(group: GroupOffsets): NegativeOutcomeError {
  return new NegativeOutcomeError(
    `refused: consumer group ${group.group} has ${group.members} active member${group.members === 1 ? '' : 's'} (${group.state}); nothing was changed`,
    {
      code: 'GROUP_ACTIVE',
      where: { group: group.group },
      suggestion: 'stop its consumers first: Kafka only lets an empty group have its offsets set',
    },
  )
}
