/**
 * Writes N bank events or N bank commands as fast as it can, for benchmarks and demos.
 *
 *   node dist/examples/bank/loadgen.js --events 1000000 --accounts 10000 [--partitions 4] [--topic bank.events]
 *   node dist/examples/bank/loadgen.js --commands 10000 --accounts 100 [--topic bank.commands]
 *
 * Events form valid streams per account (AccountOpened at version 1, then deposits and withdrawals
 * with consecutive versions, never overdrawn; ~200-byte JSON values, key = account id), so a fold
 * of the topic gives a known result: `--json` prints a summary on stdout with the total balance.
 * Commands are what a client would send (OpenAccount first, then deposits and withdrawals that the
 * command handler will accept when it applies them in order).
 *
 * Speed: kafkajs encodes ~60k records/s per core here (JavaScript per record, and garbage), so
 * by default (`--client wire`) record batches are encoded here and sent as Produce requests
 * (wire-producer.ts), `--in-flight` requests of `--batch` messages at a time per connection, from
 * `--workers` threads that each own a share of the accounts. Requests on one connection are
 * appended in order, and nothing is retried: a failed send ends the run (exit 1) rather than risk
 * versions out of order. `--client kafkajs` uses kafkajs's producer, one send at a time (kafkajs
 * does not keep the order of concurrent sends). The rate goes to stderr.
 */
import { randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { isMainThread, type MessagePort, parentPort, Worker, workerData } from 'node:worker_threads'
import { Partitioners } from 'kafkajs'
import {
  brokerList,
  COMMON_OPTIONS,
  createKafka,
  describeError,
  EXIT_USAGE,
  ensureTopics,
  exitCodeOf,
  keyPartitioner,
  logger,
  ProcessError,
  positiveInteger,
  readOptions,
  runOnce,
  topicOffsets,
} from './runtime.js'
import { type PartitionRecords, WireProducer } from './wire-producer.js'

const NAME = 'loadgen'
const log = logger(NAME)

const OPTIONS = {
  ...COMMON_OPTIONS,
  events: { type: 'string', description: 'write this many events (to --topic, default bank.events)' },
  commands: { type: 'string', description: 'write this many commands (to --topic, default bank.commands)' },
  accounts: { type: 'string', default: '1000', description: 'number of distinct accounts (keys)' },
  topic: { type: 'string', description: 'target topic' },
  acks: { type: 'string', default: '1', description: '1 (leader) or all' },
  batch: { type: 'string', default: '5000', description: 'messages per send' },
  'in-flight': {
    type: 'string',
    default: '8',
    description: 'sends in flight at once, per thread (wire only; kafkajs sends one at a time)',
  },
  client: {
    type: 'string',
    default: 'wire',
    description: 'wire (record batches encoded here, fast) or kafkajs (its producer)',
  },
  workers: { type: 'string', description: 'producer threads (default: the number of cores, at most 4)' },
  seed: { type: 'string', default: '1', description: 'seed of the pseudo-random amounts and accounts' },
  json: { type: 'boolean', description: 'print a JSON summary on stdout' },
} as const

export interface LoadSummary {
  mode: 'events' | 'commands'
  topic: string
  partitions: number
  messages: number
  accounts: number
  /** Accounts that received at least one message. */
  accountsTouched: number
  /** Sum of all balances once every message is applied. */
  totalBalance: number
  bytes: number
  seconds: number
  messagesPerSecond: number
  acks: 'all' | '1'
  workers: number
}

/** mulberry32: small, fast and reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const OWNERS = ['Ada', 'Alan', 'Barbara', 'Edsger', 'Frances', 'Grace', 'John', 'Katherine', 'Ken', 'Margaret']

/**
 * The generator of either kind for a set of accounts (`indexes` into all accounts): each call
 * writes one message for an account it picks.
 */
function generator(mode: 'events' | 'commands', indexes: number[], seed: number) {
  const next = random(seed)
  const count = indexes.length
  const versions = new Int32Array(count)
  const balances = new Float64Array(count)
  const ids = indexes.map(accountId)
  const owners = indexes.map((a) => `${OWNERS[a % OWNERS.length]} ${a}`)
  let touched = 0
  return {
    ids,
    touched: () => touched,
    totalBalance: () => balances.reduce((sum, b) => sum + b, 0),
    /** Returns [local account index, JSON value]. */
    message(timestamp: string): [number, string] {
      const a = Math.floor(next() * count)
      const id = ids[a]
      const version = ++versions[a]
      let type: string
      let data: string
      if (version === 1) {
        touched++
        type = mode === 'events' ? 'AccountOpened' : 'OpenAccount'
        data = mode === 'events' ? `{"accountId":"${id}","owner":"${owners[a]}"}` : `{"owner":"${owners[a]}"}`
      } else {
        const amount = 1 + Math.floor(next() * 1000)
        if (balances[a] >= amount && next() < 0.3) {
          balances[a] -= amount
          type = mode === 'events' ? 'FundsWithdrawn' : 'WithdrawFunds'
        } else {
          balances[a] += amount
          type = mode === 'events' ? 'FundsDeposited' : 'DepositFunds'
        }
        data = `{"amount":${amount}}`
      }
      const value =
        mode === 'events'
          ? `{"id":"${randomUUID()}","type":"${type}","causationId":"${randomUUID()}","aggregateId":"${id}","version":${version},"timestamp":"${timestamp}","data":${data}}`
          : `{"id":"${randomUUID()}","type":"${type}","timestamp":"${timestamp}","data":${data}}`
      return [a, value]
    },
  }
}

export function accountId(index: number): string {
  return `acc-${String(index).padStart(7, '0')}`
}

interface WorkerTask {
  worker: number
  workers: number
  mode: 'events' | 'commands'
  count: number
  accounts: number
  seed: number
  topic: string
  partitions: number
  brokers: string[]
  batch: number
  inFlight: number
  acks: 'all' | '1'
  client: 'wire' | 'kafkajs'
  verbose: boolean
}

type WorkerReport =
  | { type: 'ready' }
  | { type: 'done'; produced: number; bytes: number; touched: number; totalBalance: number }
  | { type: 'error'; message: string; exitCode: number }

/**
 * One worker thread: owns the accounts `a ≡ worker (mod workers)`, so every account's messages
 * come from one producer, in order. kafkajs spends most of its time encoding records, so more
 * than one core needs more than one thread.
 */
async function produce(task: WorkerTask, port: MessagePort): Promise<void> {
  const log = logger(`${NAME}[${task.worker}]`)
  const kafka = createKafka(`bank-${NAME}-${task.worker}`, task.brokers, log, task.verbose)
  const indexes: number[] = []
  for (let a = task.worker; a < task.accounts; a += task.workers) indexes.push(a)
  const gen = generator(task.mode, indexes, task.seed * 1009 + task.worker)
  const partitionOf = keyPartitioner(task.partitions)
  const accountPartitions = gen.ids.map(partitionOf)
  const acks = task.acks === 'all' ? -1 : 1
  let send: (records: PartitionRecords[]) => Promise<unknown>
  let close: () => Promise<void>
  if (task.client === 'wire') {
    const wire = await WireProducer.connect(kafka, task.topic, `bank-${NAME}-${task.worker}`)
    send = (records) => wire.send(records, acks)
    close = async () => wire.close()
  } else {
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    })
    await producer.connect()
    send = (records) =>
      producer.send({
        topic: task.topic,
        acks,
        messages: records.flatMap(({ partition, keys, values }) =>
          keys.map((key, i) => ({ key, value: values[i], partition })),
        ),
      })
    close = () => producer.disconnect()
  }
  let stopped = false
  await new Promise<void>((resolve) => {
    port.on('message', (message: string) => {
      if (message === 'go') resolve()
      if (message === 'stop') stopped = true
    })
    port.postMessage({ type: 'ready' } satisfies WorkerReport)
  })
  let bytes = 0
  let produced = 0
  const pending = new Set<Promise<unknown>>()
  while (produced < task.count && !stopped) {
    const size = Math.min(task.batch, task.count - produced)
    const timestamp = new Date().toISOString()
    const records: PartitionRecords[] = Array.from({ length: task.partitions }, (_, partition) => ({
      partition,
      keys: [],
      values: [],
    }))
    for (let i = 0; i < size; i++) {
      const [a, value] = gen.message(timestamp)
      bytes += value.length
      const target = records[accountPartitions[a]]
      target.keys.push(gen.ids[a])
      target.values.push(value)
    }
    const sent: Promise<unknown> = send(records.filter((r) => r.keys.length > 0)).then(() => {
      pending.delete(sent)
    })
    pending.add(sent)
    produced += size
    if (pending.size >= task.inFlight) await Promise.race(pending)
  }
  await Promise.all(pending)
  await close()
  port.postMessage({
    type: 'done',
    produced,
    bytes,
    touched: gen.touched(),
    totalBalance: gen.totalBalance(),
  } satisfies WorkerReport)
}

async function main(): Promise<number> {
  const options = readOptions(
    'Usage: node dist/examples/bank/loadgen.js (--events N | --commands N) [options]\n\nWrites bank events or commands quickly and reports the rate.',
    OPTIONS,
  )
  if ((options.events === undefined) === (options.commands === undefined)) {
    throw new ProcessError('give exactly one of --events N or --commands N (see --help)', EXIT_USAGE)
  }
  const mode = options.events !== undefined ? 'events' : 'commands'
  const total = positiveInteger(options.events ?? options.commands, mode)
  const accounts = positiveInteger(options.accounts, 'accounts')
  const partitions = positiveInteger(options.partitions, 'partitions')
  const batch = positiveInteger(options.batch, 'batch')
  const inFlight = positiveInteger(options['in-flight'], 'in-flight')
  const seed = positiveInteger(options.seed, 'seed')
  const workers = Math.min(
    positiveInteger(options.workers ?? String(Math.min(availableParallelism(), 4)), 'workers'),
    accounts,
    Math.ceil(total / batch),
  )
  if (options.acks !== '1' && options.acks !== 'all') {
    throw new ProcessError(`--acks must be 1 or all (got "${options.acks}")`, EXIT_USAGE)
  }
  const acks = options.acks
  if (options.client !== 'wire' && options.client !== 'kafkajs') {
    throw new ProcessError(`--client must be wire or kafkajs (got "${options.client}")`, EXIT_USAGE)
  }
  const client = options.client
  const topic = options.topic ?? `bank.${mode}`
  const brokers = brokerList(options.brokers)
  const kafka = createKafka(`bank-${NAME}`, brokers, log, options.verbose)

  const admin = kafka.admin()
  await admin.connect()
  let actualPartitions: number
  try {
    const created = await ensureTopics(admin, [{ topic, partitions }])
    if (created.length > 0) log(`created topic ${topic} (${partitions} partitions)`)
    actualPartitions = (await topicOffsets(admin, topic)).length
  } finally {
    await admin.disconnect()
  }
  if (actualPartitions !== partitions) log(`${topic} has ${actualPartitions} partitions; writing to those`)

  const threads = Array.from({ length: workers }, (_, worker) => {
    const task: WorkerTask = {
      worker,
      workers,
      mode,
      count: Math.floor(total / workers) + (worker < total % workers ? 1 : 0),
      accounts,
      seed,
      topic,
      partitions: actualPartitions,
      brokers,
      batch,
      // kafkajs does not keep the order of concurrent sends (each goes through several awaits
      // before it reaches the socket): one at a time, or versions arrive out of order.
      inFlight: client === 'kafkajs' ? 1 : inFlight,
      acks,
      client,
      verbose: options.verbose,
    }
    // A large young generation: encoding allocates many short-lived buffers (≈ +20% throughput).
    return new Worker(new URL(import.meta.url), { workerData: task, resourceLimits: { maxYoungGenerationSizeMb: 192 } })
  })
  const reports = threads.map(
    (thread) =>
      new Promise<Extract<WorkerReport, { type: 'done' }>>((resolve, reject) => {
        thread.on('message', (report: WorkerReport) => {
          if (report.type === 'done') resolve(report)
          if (report.type === 'error') reject(new ProcessError(report.message, report.exitCode))
        })
        thread.on('error', reject)
        thread.on('exit', (code) => reject(new ProcessError(`a worker thread exited with code ${code}`, 1)))
      }),
  )
  await Promise.all(
    threads.map(
      (thread) =>
        new Promise<void>((resolve, reject) => {
          thread.on('message', (report: WorkerReport) => report.type === 'ready' && resolve())
          reports[threads.indexOf(thread)].catch(reject)
        }),
    ),
  )

  // SIGINT/SIGTERM: stop generating, wait for the sends in flight, report what was written.
  let stopped = false
  const interrupt = () => {
    if (stopped) process.exit(130)
    stopped = true
    for (const thread of threads) thread.postMessage('stop')
  }
  process.on('SIGINT', interrupt)
  process.on('SIGTERM', interrupt)
  const started = process.hrtime.bigint()
  for (const thread of threads) thread.postMessage('go')
  const done = await Promise.all(reports)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await Promise.all(threads.map((thread) => thread.terminate()))

  const produced = done.reduce((sum, r) => sum + r.produced, 0)
  const bytes = done.reduce((sum, r) => sum + r.bytes, 0)
  const touched = done.reduce((sum, r) => sum + r.touched, 0)
  const summary: LoadSummary = {
    mode,
    topic,
    partitions: actualPartitions,
    messages: produced,
    accounts,
    accountsTouched: touched,
    totalBalance: done.reduce((sum, r) => sum + r.totalBalance, 0),
    bytes,
    seconds: Number(seconds.toFixed(3)),
    messagesPerSecond: Math.round(produced / seconds),
    acks,
    workers,
  }
  const n = (value: number) => value.toLocaleString('en-US')
  log(
    `${n(produced)} ${mode} → ${topic} (${actualPartitions} partitions, ${n(touched)} accounts, acks=${acks}, ` +
      `${workers} threads) in ${seconds.toFixed(2)} s: ${n(summary.messagesPerSecond)} ${mode}/s, ` +
      `${(bytes / seconds / 1e6).toFixed(1)} MB/s, ~${Math.round(bytes / Math.max(produced, 1))} B/message`,
  )
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
  if (stopped) log(`interrupted after ${n(produced)} of ${n(total)} ${mode}`)
  return stopped ? 130 : 0
}

if (isMainThread) {
  runOnce(NAME, main)
} else {
  const port = parentPort as MessagePort
  produce(workerData as WorkerTask, port).catch((error) => {
    port.postMessage({
      type: 'error',
      message: describeError(error),
      exitCode: exitCodeOf(error),
    } satisfies WorkerReport)
  })
}
