/**
 * `es groups`: every consumer group with its state, members, the topics it consumes (committed
 * offsets, and the assignments of its members) and its total lag (latest − committed summed over
 * the partitions it has committed on). `es checkpoints <group>` is the detailed view of one group.
 */
import type { KafkaConnection } from '../config/types.js'
import { type Admin, withAdmin } from '../kafka/admin-client.js'
import type { ClientOptions } from '../kafka/connection.js'
import { importKafkajs } from '../kafka/kafkajs-internals.js'
import { namePattern } from './name-pattern.js'

export interface GroupPartitionLag {
  topic: string
  partition: number
  committed: number | null
  latest: number
  /** latest − committed; null when nothing is committed on the partition. */
  lag: number | null
}

export interface GroupInfo {
  group: string
  /** Kafka's group state: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead. */
  state: string
  /** `consumer` for consumer groups; `connect` and others for other group protocols. */
  protocolType: string
  members: number
  /** Topics with committed offsets or assigned to a member, sorted. */
  topics: string[]
  /** Sum of the partitions' lags; null when the group has committed nothing. */
  lag: number | null
  partitions: GroupPartitionLag[]
}

export interface GroupsResult {
  groups: GroupInfo[]
}

export interface ListGroupsOptions {
  pattern?: string
  client?: ClientOptions
}

export function listGroups(connection: KafkaConnection, options: ListGroupsOptions = {}): Promise<GroupsResult> {
  const matches = namePattern(options.pattern)
  return withAdmin(
    connection,
    'listing consumer groups',
    async (admin) => {
      const overviews = (await admin.listGroups()).groups.filter((g) => matches(g.groupId))
      if (overviews.length === 0) return { groups: [] }
      const { groups: descriptions } = await admin.describeGroups(overviews.map((g) => g.groupId))
      const { AssignerProtocol } = await importKafkajs()
      const latest = latestOffsets(admin)
      const groups = await Promise.all(
        descriptions.map(async (d): Promise<GroupInfo> => {
          const overview = overviews.find((o) => o.groupId === d.groupId)
          const assigned = new Set<string>()
          if (d.protocolType === 'consumer') {
            for (const member of d.members) {
              if (member.memberAssignment.length === 0) continue
              const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)
              for (const topic of Object.keys(decoded?.assignment ?? {})) assigned.add(topic)
            }
          }
          const committed =
            d.protocolType === 'consumer' || d.protocolType === ''
              ? await admin.fetchOffsets({ groupId: d.groupId })
              : []
          const partitions: GroupPartitionLag[] = []
          for (const t of committed) {
            const ends = await latest(t.topic)
            for (const p of t.partitions) {
              const offset = Number(p.offset)
              const end = ends.get(p.partition) ?? 0
              partitions.push({
                topic: t.topic,
                partition: p.partition,
                committed: offset >= 0 ? offset : null,
                latest: end,
                lag: offset >= 0 ? Math.max(0, end - offset) : null,
              })
            }
          }
          partitions.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
          const withCommits = partitions.filter((p) => p.committed !== null)
          for (const p of withCommits) assigned.add(p.topic)
          return {
            group: d.groupId,
            state: d.state,
            protocolType: d.protocolType || overview?.protocolType || '',
            members: d.members.length,
            topics: [...assigned].sort(),
            lag: withCommits.length ? withCommits.reduce((sum, p) => sum + (p.lag ?? 0), 0) : null,
            partitions: withCommits.length ? partitions : [],
          }
        }),
      )
      return { groups: groups.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0)) }
    },
    options.client,
  )
}

/** The end offsets of a topic's partitions, asked once per topic. */
function latestOffsets(admin: Admin): (topic: string) => Promise<Map<number, number>> {
  const asked = new Map<string, Promise<Map<number, number>>>()
  return (topic) => {
    let answer = asked.get(topic)
    if (!answer) {
      answer = admin
        .fetchTopicOffsets(topic)
        .then((offsets) => new Map(offsets.map((o) => [o.partition, Number(o.high)])))
        .catch(() => new Map<number, number>())
      asked.set(topic, answer)
    }
    return answer
  }
}
