/**
 * The bank's command handler: consumes `bank.commands` in a consumer group, decides each command
 * against the account's current state (domain.ts) and appends the resulting events, or a
 * CommandRejected, to `bank.events`.
 *
 *   node dist/examples/bank/command-handler.js [--brokers host:port] [--commands-topic t] …
 *
 * State lives in memory and is rebuilt at start by reading `bank.events` to its end, so a restart
 * continues exactly where the log is. Guarantees, and how they are kept:
 * - One send per chunk of commands, on an idempotent producer (acks=all, one request in flight):
 *   the events of one command are never split across sends, and broker-side retries never
 *   duplicate or reorder them. A command's offset is committed only after its events are
 *   acknowledged, so a crash re-delivers commands whose events may or may not be written…
 * - …and that is safe, because a command id already seen as a `causationId` in `bank.events` is
 *   skipped (idempotent retries, also for commands a client sends twice). The memory of handled
 *   ids is a window of the most recent `--dedupe-window` ids.
 * - The in-memory state is only right if this process is the only writer for the accounts whose
 *   commands it receives. Commands are keyed by account, so within one group assignment it is.
 *   After every (re)join of the group, and whenever the events topic has grown by records this
 *   process did not write, it reads `bank.events` up to its end again before deciding anything.
 *   Folding is idempotent (events at or below an account's version are skipped), so re-reading
 *   is harmless.
 */
import { randomUUID } from 'node:crypto'
import type { KafkaMessage } from 'kafkajs'
import {
  type AccountState,
  bodyOf,
  decide,
  type EventEnvelope,
  evolve,
  initialState,
  parseCommand,
  parseEvent,
  toEnvelopes,
} from './domain.js'
import {
  brokerList,
  COMMON_OPTIONS,
  createKafka,
  ensureTopics,
  idempotentProducer,
  keyPartitioner,
  logger,
  type Positions,
  positiveInteger,
  type RunningProcess,
  readOptions,
  readTopicToEnd,
  retryWhileSettling,
  runProcess,
  topicOffsets,
} from './runtime.js'

const NAME = 'command-handler'
const log = logger(NAME)
/** Commands decided per send; bounds the size of one produce request. */
const CHUNK = 500

const OPTIONS = {
  ...COMMON_OPTIONS,
  'commands-topic': {
    type: 'string',
    env: 'BANK_COMMANDS_TOPIC',
    default: 'bank.commands',
    description: 'topic to consume commands from',
  },
  'events-topic': {
    type: 'string',
    env: 'BANK_EVENTS_TOPIC',
    default: 'bank.events',
    description: 'topic to append events to',
  },
  group: {
    type: 'string',
    env: 'BANK_HANDLER_GROUP',
    default: 'bank-command-handler',
    description: 'consumer group',
  },
  'dedupe-window': {
    type: 'string',
    env: 'BANK_DEDUPE_WINDOW',
    default: '1000000',
    description: 'how many recent command ids are remembered to skip retries',
  },
} as const

/** Account states and handled command ids, folded from `bank.events`. */
class Accounts {
  private readonly states = new Map<string, AccountState>()
  private readonly handled = new Set<string>()

  constructor(private readonly window: number) {}

  get size(): number {
    return this.states.size
  }

  state(accountId: string): AccountState {
    return this.states.get(accountId) ?? initialState(accountId)
  }

  hasHandled(commandId: string): boolean {
    return this.handled.has(commandId)
  }

  /** Idempotent: an event at or below the account's version has been folded already. */
  apply(event: EventEnvelope): void {
    if (event.causationId) this.remember(event.causationId)
    if (event.type === 'CommandRejected') return
    const current = this.state(event.aggregateId)
    if (event.version <= current.version) return
    this.states.set(event.aggregateId, evolve(current, bodyOf(event)))
  }

  private remember(commandId: string): void {
    if (this.handled.has(commandId)) return
    this.handled.add(commandId)
    if (this.handled.size > this.window) {
      // A Set iterates in insertion order: the first value is the oldest.
      this.handled.delete(this.handled.values().next().value as string)
    }
  }
}

async function start(): Promise<RunningProcess> {
  const options = readOptions(
    'Usage: node dist/examples/bank/command-handler.js [options]\n\nConsumes bank commands and appends events.',
    OPTIONS,
  )
  const brokers = brokerList(options.brokers)
  const commandsTopic = options['commands-topic'] as string
  const eventsTopic = options['events-topic'] as string
  const group = options.group as string
  const partitions = positiveInteger(options.partitions, 'partitions')
  const accounts = new Accounts(positiveInteger(options['dedupe-window'], 'dedupe-window'))
  const kafka = createKafka(`bank-${NAME}`, brokers, log, options.verbose)

  const admin = kafka.admin()
  await admin.connect()
  let eventPartitions: number
  try {
    const created = await ensureTopics(admin, [
      { topic: commandsTopic, partitions },
      { topic: eventsTopic, partitions },
    ])
    if (created.length > 0) log(`created topics ${created.join(', ')} (${partitions} partitions)`)
    eventPartitions = (await topicOffsets(admin, eventsTopic)).length
  } finally {
    await admin.disconnect()
  }
  const partitionOf = keyPartitioner(eventPartitions)

  let malformedEvents = 0
  let folded = 0
  const foldEvents = (partition: number, messages: KafkaMessage[]) => {
    folded += messages.length
    for (const message of messages) {
      const parsed = parseEvent(message.key?.toString() ?? null, message.value?.toString() ?? null)
      if (parsed.ok) accounts.apply(parsed.event)
      else if (++malformedEvents <= 10) {
        log(`warning: ignoring ${eventsTopic}/${partition}@${message.offset}: ${parsed.problem}`)
      }
    }
  }
  const rebuildStarted = Date.now()
  let positions: Positions = await readTopicToEnd(kafka, eventsTopic, new Map(), foldEvents, group)
  const rebuilt = folded

  const producer = kafka.producer(idempotentProducer)
  await producer.connect()
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await retryWhileSettling(() => consumer.subscribe({ topic: commandsTopic, fromBeginning: true }))

  const stats = { commands: 0, events: 0, rejected: 0, duplicates: 0, skipped: 0 }
  let needsCatchUp = false
  consumer.on(consumer.events.GROUP_JOIN, () => {
    needsCatchUp = true
  })
  let reportFailure: (error: unknown) => void = () => {}
  const failed = new Promise<never>((_, reject) => {
    reportFailure = reject
  })
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) reportFailure(event.payload.error)
  })

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (needsCatchUp) {
        positions = await readTopicToEnd(kafka, eventsTopic, positions, foldEvents, group)
        needsCatchUp = false
      }
      for (let i = 0; i < batch.messages.length; i += CHUNK) {
        if (!isRunning() || isStale()) return
        const chunk = batch.messages.slice(i, i + CHUNK)
        // Decisions within a chunk see each other's effects; `accounts` changes only once the
        // chunk's events are acknowledged.
        const tentative = new Map<string, AccountState>()
        const decided = new Set<string>()
        const envelopes: EventEnvelope[] = []
        for (const message of chunk) {
          const parsed = parseCommand(message.key?.toString() ?? null, message.value?.toString() ?? null)
          if (!parsed.ok) {
            stats.skipped++
            log(`warning: skipping ${batch.topic}/${batch.partition}@${message.offset}: ${parsed.problem}`)
            continue
          }
          const { command } = parsed
          if (accounts.hasHandled(command.id) || decided.has(command.id)) {
            stats.duplicates++
            continue
          }
          decided.add(command.id)
          const state = tentative.get(command.accountId) ?? accounts.state(command.accountId)
          const decision = decide(command, state)
          if (!Array.isArray(decision)) stats.rejected++
          const stamped = toEnvelopes(decision, command, { newId: randomUUID, now: new Date().toISOString() })
          tentative.set(
            command.accountId,
            stamped.reduce((s, e) => evolve(s, bodyOf(e)), state),
          )
          envelopes.push(...stamped)
          stats.commands++
        }
        if (envelopes.length > 0) {
          const counts = new Map<number, number>()
          const messages = envelopes.map((envelope) => {
            const partition = partitionOf(envelope.aggregateId)
            counts.set(partition, (counts.get(partition) ?? 0) + 1)
            return { key: envelope.aggregateId, value: JSON.stringify(envelope), partition }
          })
          try {
            const written = await producer.send({ topic: eventsTopic, messages })
            for (const { partition, baseOffset } of written) {
              const base = BigInt(baseOffset ?? '-1')
              // Contiguous with what we have read: our own records, nothing else, were appended.
              if (positions.get(partition) === base) positions.set(partition, base + BigInt(counts.get(partition) ?? 0))
              else needsCatchUp = true
            }
          } catch (error) {
            // The events may or may not be in the log: read it again before deciding anything.
            needsCatchUp = true
            throw error
          }
          for (const envelope of envelopes) accounts.apply(envelope)
          stats.events += envelopes.length
        }
        const last = chunk[chunk.length - 1].offset
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
        ])
        resolveOffset(last)
        await heartbeat()
      }
    },
  })

  log(
    `started: ${commandsTopic} → ${eventsTopic} on ${brokers.join(',')}, group ${group}; ` +
      `state rebuilt from ${rebuilt} events (${accounts.size} accounts) in ${Date.now() - rebuildStarted} ms`,
  )
  return {
    failed,
    stop: async () => {
      await consumer.disconnect()
      await producer.disconnect()
      return (
        `${stats.commands} commands handled, ${stats.events} events written, ${stats.rejected} rejected, ` +
        `${stats.duplicates} duplicates skipped, ${stats.skipped} unreadable`
      )
    },
  }
}

runProcess(NAME, start)
