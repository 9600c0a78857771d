/**
 * The edges the bank's processes share: options from flags and environment, one-line logging,
 * the Kafka client, topic creation, reading a topic to its end, and the process lifecycle
 * (start, SIGTERM/SIGINT, exit codes). Exit codes follow es's conventions: 2 usage, 4 Kafka or the
 * read model unreachable, 1 any other failure.
 */
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import {
  type Admin,
  Kafka,
  type KafkaMessage,
  type LogEntry,
  logLevel,
  Partitioners,
  type ProducerConfig,
} from 'kafkajs'

export const DEFAULT_BROKERS = '127.0.0.1:9092'

/** The options every bank process takes, spelled the same everywhere. */
export const COMMON_OPTIONS = {
  brokers: { type: 'string', env: 'ES_BROKERS', default: DEFAULT_BROKERS, description: 'Kafka bootstrap servers' },
  partitions: {
    type: 'string',
    env: 'BANK_PARTITIONS',
    default: '4',
    description: 'partitions of the topics this process creates',
  },
  verbose: { type: 'boolean', env: 'BANK_VERBOSE', description: 'log kafkajs warnings too' },
} as const

export const EXIT_USAGE = 2
export const EXIT_UNREACHABLE = 4
export const EXIT_FAILURE = 1
const STOP_TIMEOUT_MS = 20_000

/** An expected failure: printed as one line, no stack trace. */
export class ProcessError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean'
  /** Environment variable read when the flag is absent. */
  env?: string
  default?: string
  description: string
}

export type Options<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : string | undefined
}

/**
 * Flags win over environment variables, which win over defaults. `--help` prints the usage and
 * exits 0; an unknown flag is a ProcessError (exit 2).
 */
export function readOptions<S extends Record<string, OptionSpec>>(
  usage: string,
  spec: S,
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Options<S> {
  const help = () =>
    [
      usage,
      '',
      'Options:',
      ...Object.entries(spec).map(([flag, s]) => {
        const left = `  --${flag}${s.type === 'string' ? ' <value>' : ''}`
        const extra = [s.env ? `env ${s.env}` : '', s.default !== undefined ? `default ${s.default}` : '']
          .filter(Boolean)
          .join(', ')
        return `${left.padEnd(30)} ${s.description}${extra ? ` (${extra})` : ''}`
      }),
      `${'  --help'.padEnd(30)} show this help`,
    ].join('\n')
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(Object.entries(spec).map(([flag, s]) => [flag, { type: s.type }])),
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>
  } catch (error) {
    throw new ProcessError(`${(error as Error).message.split('\n')[0]} (see --help)`, EXIT_USAGE)
  }
  if (values.help) {
    process.stdout.write(`${help()}\n`)
    process.exit(0)
  }
  const result: Record<string, string | boolean | undefined> = {}
  for (const [flag, s] of Object.entries(spec)) {
    const fromEnv = s.env ? env[s.env] : undefined
    if (s.type === 'boolean') {
      result[flag] = values[flag] === true || (fromEnv !== undefined && /^(1|true|yes)$/i.test(fromEnv))
    } else {
      result[flag] = (values[flag] as string | undefined) ?? (fromEnv !== '' ? fromEnv : undefined) ?? s.default
    }
  }
  return result as Options<S>
}

export function positiveInteger(value: string | undefined, flag: string): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new ProcessError(`--${flag} must be a positive integer (got "${value}")`, EXIT_USAGE)
  }
  return parsed
}

export function brokerList(value: string | undefined): string[] {
  const brokers = (value ?? DEFAULT_BROKERS)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean)
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d+$/.test(broker)) {
      throw new ProcessError(`broker address "${broker}" is not host:port`, EXIT_USAGE)
    }
  }
  return brokers
}

/** A one-line logger to stderr, prefixed with the process name. */
export function logger(name: string): (line: string) => void {
  return (line) => process.stderr.write(`${name}: ${line}\n`)
}

/**
 * A Kafka client whose own log lines (errors only, or warnings with `verbose`) are one line each
 * on stderr. kafkajs retries connection errors itself; what it cannot recover from surfaces as a
 * rejected promise or a consumer crash, which the processes report.
 */
export function createKafka(clientId: string, brokers: string[], log: (line: string) => void, verbose = false): Kafka {
  const logCreator = () => (entry: LogEntry) => {
    const { message, error } = entry.log as { message: string; error?: string }
    // Error responses kafkajs retries (a coordinator still loading, a leader moving) are noise;
    // what it cannot recover from surfaces as a rejected call or a consumer crash.
    // Connection errors likewise: kafkajs retries them, and gives up with an error we report.
    if (!verbose && (entry.namespace === 'Connection' || entry.namespace === 'BrokerPool')) return
    log(`kafkajs ${entry.namespace}: ${message}${error && !message.includes(error) ? `: ${error}` : ''}`)
  }
  return new Kafka({
    clientId,
    brokers,
    logLevel: verbose ? logLevel.WARN : logLevel.ERROR,
    logCreator,
    connectionTimeout: 3000,
    retry: { retries: 5, initialRetryTime: 300 },
  })
}

/**
 * An idempotent producer (acks=all, one request in flight, retried without limit as kafkajs
 * requires for its guarantees: the broker drops duplicates and keeps the order). The Java-compatible
 * murmur2 partitioner, named explicitly (kafkajs otherwise warns about its v2 default).
 */
export const idempotentProducer: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
}

export interface TopicSpec {
  topic: string
  partitions: number
  config?: Record<string, string>
}

/**
 * Creates the topics that do not exist yet (existing topics are left as they are) and returns
 * the names it created, once every partition of every topic has a leader: a topic another process
 * has just created may not have one yet.
 */
export async function ensureTopics(admin: Admin, topics: TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics())
  const missing = topics.filter((t) => !existing.has(t.topic))
  if (missing.length > 0) {
    // Not kafkajs's waitForLeaders: it gives up when the new topic is not in the metadata yet,
    // which happens with KRaft brokers; the wait below retries that.
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions,
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    })
  }
  await retryWhileSettling(async () => {
    const { topics: found } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) })
    for (const topic of found) {
      const leaderless = topic.partitions.find((p) => p.leader < 0)
      if (topic.partitions.length === 0 || leaderless) {
        throw Object.assign(new Error(`${topic.name} has no leader yet`), { retriable: true })
      }
    }
  })
  return missing.map((t) => t.topic)
}

/**
 * Runs `attempt` again (bounded) while it fails with an error Kafka calls retriable: right after a
 * topic is created, its partitions have no leader for a moment and kafkajs's admin calls say so.
 */
export async function retryWhileSettling<T>(attempt: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      const retriable = error instanceof Error && chainOf(error).some((e) => (e as { retriable?: boolean }).retriable)
      if (!retriable || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

/** Every partition's offsets (`high` = the end), once the topic has leaders. */
export function topicOffsets(admin: Admin, topic: string) {
  return retryWhileSettling(() => admin.fetchTopicOffsets(topic))
}

/** Next offset to read, per partition. */
export type Positions = Map<number, bigint>

/**
 * Reads `topic` from `from` (default: each partition's beginning) up to the end offsets fixed when
 * it starts, handing each batch to `onMessages`, and returns the positions reached (at least those
 * ends). kafkajs has no group-less consumer, so this joins a throw-away group (no offsets committed)
 * and deletes it afterwards.
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  from: Positions,
  onMessages: (partition: number, messages: KafkaMessage[]) => void,
  groupPrefix: string,
): Promise<Positions> {
  const admin = kafka.admin()
  await admin.connect()
  const positions: Positions = new Map()
  const targets = new Map<number, bigint>()
  try {
    for (const { partition, high, low } of await topicOffsets(admin, topic)) {
      const start = maxBigInt(from.get(partition) ?? 0n, BigInt(low))
      positions.set(partition, start)
      if (BigInt(high) > start) targets.set(partition, BigInt(high))
    }
  } finally {
    await admin.disconnect()
  }
  if (targets.size === 0) return positions

  const groupId = `${groupPrefix}-replay-${randomUUID()}`
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, maxBytes: 16 << 20, maxBytesPerPartition: 8 << 20 })
  await consumer.connect()
  try {
    await retryWhileSettling(() => consumer.subscribe({ topic, fromBeginning: true }))
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error))
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const partition = batch.partition
            const target = targets.get(partition)
            const position = positions.get(partition) ?? 0n
            if (target === undefined) return
            const messages = batch.messages.filter((m) => BigInt(m.offset) >= position)
            if (messages.length > 0) onMessages(partition, messages)
            positions.set(partition, maxBigInt(position, BigInt(batch.lastOffset()) + 1n))
            resolveOffset(batch.lastOffset())
            if ((positions.get(partition) ?? 0n) >= target) {
              targets.delete(partition)
              if (targets.size === 0) resolve()
            }
          },
        })
        .catch(reject)
      // Registered before the group is joined; applied at the first fetch of each partition.
      for (const partition of targets.keys()) {
        consumer.seek({ topic, partition, offset: String(positions.get(partition)) })
      }
    })
  } finally {
    await consumer.disconnect()
  }
  const cleanup = kafka.admin()
  await cleanup
    .connect()
    .then(() => cleanup.deleteGroups([groupId]))
    .catch(() => {})
    .finally(() => cleanup.disconnect())
  return positions
}

export function maxBigInt(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

export interface RunningProcess {
  /** Stops consuming, flushes, disconnects, closes files. Returns the stop line's details. */
  stop(): Promise<string>
  /** Settles when the process fails on its own (a consumer that cannot restart). */
  failed: Promise<never>
}

/**
 * Runs a process: `start` returns once it works (its start line is logged by the caller), then
 * SIGTERM/SIGINT stop it cleanly with exit 0. Expected errors are one line; a second signal
 * exits at once.
 */
export function runProcess(name: string, start: () => Promise<RunningProcess>): void {
  const log = logger(name)
  let running: RunningProcess | undefined
  let stopping = false
  const fail = (error: unknown): never => {
    log(`error: ${describeError(error)}`)
    if (!(error instanceof ProcessError) && process.env.BANK_VERBOSE && error instanceof Error) {
      process.stderr.write(`${error.stack}\n`)
    }
    process.exit(exitCodeOf(error))
  }
  const stop = async (signal: string) => {
    if (stopping) {
      log(`${signal} again: exiting now`)
      process.exit(130)
    }
    stopping = true
    // Sends retry without limit while Kafka is away: do not hang on shutdown because of that.
    setTimeout(() => {
      log(`did not stop within ${STOP_TIMEOUT_MS / 1000} s of ${signal}; exiting`)
      process.exit(EXIT_FAILURE)
    }, STOP_TIMEOUT_MS).unref()
    try {
      const details = running ? await running.stop() : ''
      log(`stopped on ${signal}${details ? ` (${details})` : ''}`)
      process.exit(0)
    } catch (error) {
      fail(error)
    }
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  start()
    .then((started) => {
      running = started
      started.failed.catch(async (error) => {
        if (stopping) return
        stopping = true
        await started.stop().catch(() => {})
        fail(error)
      })
    })
    .catch(fail)
}

/** Runs a one-shot job and exits with its code; expected errors are one line. */
export function runOnce(name: string, main: () => Promise<number>): void {
  const log = logger(name)
  main().then(
    (code) => process.exit(code),
    (error) => {
      log(`error: ${describeError(error)}`)
      if (!(error instanceof ProcessError) && process.env.BANK_VERBOSE && error instanceof Error) {
        process.stderr.write(`${error.stack}\n`)
      }
      process.exit(exitCodeOf(error))
    },
  )
}

/** One line naming what went wrong; Kafka connection failures name the brokers. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const names = chainOf(error).map((e) => e.name)
  const messages = chainOf(error).map((e) => e.message.split('\n')[0])
  const unique = messages.filter((m, i) => m && messages.indexOf(m) === i)
  if (names.includes('KafkaJSConnectionError') || names.includes('KafkaJSNumberOfRetriesExceeded')) {
    return `cannot reach Kafka: ${unique.join(': ')}`
  }
  return unique.join(': ')
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof ProcessError) return error.exitCode
  if (!(error instanceof Error)) return EXIT_FAILURE
  const chain = chainOf(error)
  const unreachable = chain.some(
    (e) =>
      e.name === 'KafkaJSConnectionError' ||
      e.name === 'KafkaJSNumberOfRetriesExceeded' ||
      e.name === 'KafkaJSBrokerNotFound' ||
      e.name === 'KafkaJSRequestTimeoutError' ||
      ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(String((e as { code?: string }).code)),
  )
  return unreachable ? EXIT_UNREACHABLE : EXIT_FAILURE
}

function chainOf(error: Error): Error[] {
  const chain: Error[] = []
  let current: unknown = error
  while (current instanceof Error && chain.length < 5) {
    chain.push(current)
    current =
      (current as { cause?: unknown; originalError?: unknown }).cause ??
      (current as { originalError?: unknown }).originalError
  }
  return chain
}

/**
 * The partition kafkajs's default (Java-compatible murmur2) partitioner picks for a key, for a topic
 * of `count` partitions. Writers that set partitions themselves know how many records went where.
 */
export function keyPartitioner(count: number): (key: string) => number {
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }))
  return (key) => partitioner({ topic: '', partitionMetadata, message: { key, value: null } })
}
