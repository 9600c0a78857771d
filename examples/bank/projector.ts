/**
 * The bank's projector: consumes `bank.events` into the `accounts` read model (SQLite by default,
 * PostgreSQL given a URL) and publishes each changed account's current state to the compacted
 * `bank.snapshots` topic (key = account id, value `{id, owner, balance, status, version}`).
 *
 *   node dist/examples/bank/projector.js [--read-model sqlite:./bank-accounts.db | postgres://…] …
 *
 * Exactly-once into the read model, and why: the projector stores the next offset of each events
 * partition in the read model itself (`projector_offsets`), in the same transaction as the rows
 * those events changed. The read model, not the consumer group, decides where to resume: records
 * below the stored offset are skipped, and when Kafka delivers from further on (e.g. a new, empty
 * read model file while the group has committed offsets) the projector seeks back to the stored
 * offset (or the beginning). A crash between the database commit and the Kafka offset commit
 * therefore never applies an event twice. Rows additionally carry their version and only move
 * forward (events at or below a row's version are skipped), which guards against duplicated
 * events in the log and against a second projector on the same table during a rebalance.
 *
 * Snapshots are published before the read model transaction commits: after a crash in between,
 * the same events are projected again and the same states published again, which a compacted
 * topic keyed by account absorbs. So snapshots are at-least-once and never behind the read model.
 */
import kafkajs from 'kafkajs'
import { type EventEnvelope, parseEvent } from './domain.js'
import { type AccountRow, openReadModel, parseReadModel, projectRow, snapshotOf } from './read-model.js'
import {
  brokerList,
  COMMON_OPTIONS,
  createKafka,
  ensureTopics,
  idempotentProducer,
  logger,
  type Positions,
  positiveInteger,
  type RunningProcess,
  readOptions,
  retryWhileSettling,
  runProcess,
} from './runtime.js'

const NAME = 'projector'
const log = logger(NAME)
/** Events applied per read-model transaction. */
const CHUNK = 2000

const OPTIONS = {
  ...COMMON_OPTIONS,
  'events-topic': {
    type: 'string',
    env: 'BANK_EVENTS_TOPIC',
    default: 'bank.events',
    description: 'topic to consume events from',
  },
  'snapshots-topic': {
    type: 'string',
    env: 'BANK_SNAPSHOTS_TOPIC',
    default: 'bank.snapshots',
    description: 'compacted topic for account snapshots',
  },
  group: { type: 'string', env: 'BANK_PROJECTOR_GROUP', default: 'bank-projector', description: 'consumer group' },
  'read-model': {
    type: 'string',
    env: 'BANK_READ_MODEL',
    default: 'sqlite:./bank-accounts.db',
    description: 'sqlite:<file> or postgres://user:password@host:port/db',
  },
  table: { type: 'string', env: 'BANK_TABLE', default: 'accounts', description: 'read model table' },
  schema: { type: 'string', env: 'BANK_PG_SCHEMA', description: 'PostgreSQL schema (created if missing)' },
} as const

async function start(): Promise<RunningProcess> {
  const options = readOptions(
    'Usage: node dist/examples/bank/projector.js [options]\n\nProjects bank events into the accounts read model and bank.snapshots.',
    OPTIONS,
  )
  const brokers = brokerList(options.brokers)
  const eventsTopic = options['events-topic'] as string
  const snapshotsTopic = options['snapshots-topic'] as string
  const group = options.group as string
  const partitions = positiveInteger(options.partitions, 'partitions')
  const target = parseReadModel(options['read-model'] as string)

  let reportFailure: (error: unknown) => void = () => {}
  const failed = new Promise<never>((_, reject) => {
    reportFailure = reject
  })
  const readModel = await openReadModel(target, {
    table: options.table as string,
    schema: target.type === 'postgres' ? options.schema : undefined,
    onError: (error) => reportFailure(error),
  })
  const kafka = createKafka(`bank-${NAME}`, brokers, log, options.verbose)
  const producer = kafka.producer(idempotentProducer)
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 })
  try {
    const admin = kafka.admin()
    await admin.connect()
    try {
      const created = await ensureTopics(admin, [
        { topic: eventsTopic, partitions },
        { topic: snapshotsTopic, partitions, config: { 'cleanup.policy': 'compact' } },
      ])
      if (created.length > 0) log(`created topics ${created.join(', ')} (${partitions} partitions)`)
      if (!created.includes(snapshotsTopic)) {
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [
            { type: kafkajs.ConfigResourceTypes.TOPIC, name: snapshotsTopic, configNames: ['cleanup.policy'] },
          ],
        })
        const policy = described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')
        if (policy && !policy.configValue.includes('compact')) {
          log(`warning: ${snapshotsTopic} has cleanup.policy=${policy.configValue}, not compact`)
        }
      }
    } finally {
      await admin.disconnect()
    }
    await producer.connect()
    await consumer.connect()
    await retryWhileSettling(() => consumer.subscribe({ topic: eventsTopic, fromBeginning: true }))
  } catch (error) {
    await readModel.close().catch(() => {})
    throw error
  }

  const stats = { applied: 0, stale: 0, ignored: 0, unreadable: 0, snapshots: 0 }
  let positions: Positions = await readModel.positions(eventsTopic)
  const resumedFrom = [...positions.entries()].map(([p, o]) => `${p}@${o}`).join(' ')
  /** The offset last sought to per partition: a gap after seeking there is real (retention). */
  const sought = new Map<number, bigint>()
  let reloadPositions = false
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    // Emitted synchronously after the assignment and before the first fetch: the seeks below
    // apply to it. They replace the group's committed offsets with the read model's (a partition
    // at its end in the group but new to this read model delivers no batch at all otherwise).
    for (const partition of event.payload.memberAssignment[eventsTopic] ?? []) {
      const next = positions.get(partition) ?? 0n
      sought.set(partition, next)
      consumer.seek({ topic: eventsTopic, partition, offset: next.toString() })
    }
    // Another projector (PostgreSQL) may have moved partitions we now own: the read model knows.
    reloadPositions = true
  })
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) reportFailure(event.payload.error)
  })

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (reloadPositions) {
        positions = await readModel.positions(eventsTopic)
        reloadPositions = false
      }
      const partition = batch.partition
      const next = positions.get(partition) ?? 0n
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= next)
      if (fresh.length === 0) {
        resolveOffset(batch.lastOffset())
        return
      }
      // Delivered from further on than the read model has: go back, once (after that the records
      // in between are gone from the log, e.g. by retention).
      if (BigInt(fresh[0].offset) > next && sought.get(partition) !== next) {
        sought.set(partition, next)
        consumer.seek({ topic: batch.topic, partition, offset: next.toString() })
        return
      }
      for (let i = 0; i < fresh.length; i += CHUNK) {
        if (!isRunning() || isStale()) return
        const chunk = fresh.slice(i, i + CHUNK)
        const events: EventEnvelope[] = []
        for (const message of chunk) {
          const parsed = parseEvent(message.key?.toString() ?? null, message.value?.toString() ?? null)
          if (!parsed.ok) {
            if (++stats.unreadable <= 10) {
              log(`warning: skipping ${batch.topic}/${partition}@${message.offset}: ${parsed.problem}`)
            }
          } else if (parsed.event.type === 'CommandRejected') stats.ignored++
          else events.push(parsed.event)
        }
        const current = await readModel.load([...new Set(events.map((e) => e.aggregateId))])
        const changed = new Map<string, AccountRow>()
        for (const event of events) {
          const row = changed.get(event.aggregateId) ?? current.get(event.aggregateId)
          if (row && event.version <= row.version) {
            stats.stale++
            continue
          }
          changed.set(event.aggregateId, projectRow(row, event))
          stats.applied++
        }
        const rows = [...changed.values()]
        if (rows.length > 0) {
          await producer.send({
            topic: snapshotsTopic,
            messages: rows.map((row) => ({ key: row.id, value: JSON.stringify(snapshotOf(row)) })),
          })
          stats.snapshots += rows.length
        }
        const last = chunk[chunk.length - 1].offset
        const nextOffset = BigInt(last) + 1n
        await readModel.commit(rows, batch.topic, partition, nextOffset)
        positions.set(partition, nextOffset)
        resolveOffset(last)
        // For operators' lag tools only: the read model's offsets are the ones that count.
        await consumer.commitOffsets([{ topic: batch.topic, partition, offset: nextOffset.toString() }])
        await heartbeat()
      }
    },
  })

  log(
    `started: ${eventsTopic} → ${readModel.description} and ${snapshotsTopic} on ${brokers.join(',')}, ` +
      `group ${group}, ${resumedFrom ? `resuming at ${resumedFrom}` : 'from the beginning'}`,
  )
  return {
    failed,
    stop: async () => {
      try {
        await consumer.disconnect()
        await producer.disconnect()
      } finally {
        await readModel.close()
      }
      return (
        `${stats.applied} events applied, ${stats.stale} already applied, ${stats.ignored} rejections ignored, ` +
        `${stats.unreadable} unreadable, ${stats.snapshots} snapshots published`
      )
    },
  }
}

runProcess(NAME, start)
