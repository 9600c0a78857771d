/**
 * A single-node Apache Kafka broker (KRaft, broker + controller in one JVM) for development,
 * demos and tests. State lives under `$ES_HOME/local/<port>/` (default `~/.es`): the data
 * directory, the broker's log, and `broker.json` recording the running process.
 */
import { execFile, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, Socket } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { InternalError, UnreachableError } from '../errors.js'
import { importKafkajs } from '../kafka/kafkajs-internals.js'
import { isAlive } from '../process-alive.js'
import { ensureKafkaJars, javaArgs, KAFKA_VERSION, requireTool } from './jars.js'

const execFileAsync = promisify(execFile)

export interface BrokerOptions {
  port: number
  /** Defaults to `port + 1`, or a free port if that one is taken. */
  controllerPort?: number
  /** Defaults to `$ES_HOME/local/<port>`. */
  home?: string
  env?: NodeJS.ProcessEnv
  startTimeoutMs?: number
  log?: (line: string) => void
  /**
   * Broker properties added to (or replacing) the development defaults, e.g. more listeners with
   * SASL or TLS; the PLAINTEXT listener on `port` must stay (readiness is checked there).
   */
  properties?: Record<string, string>
  /** More arguments for the storage format, e.g. `--add-scram` users. Used on first start only. */
  formatArgs?: string[]
}

export interface BrokerStatus {
  running: boolean
  port: number
  bootstrap: string
  pid?: number
  controllerPort?: number
  kafkaVersion: string
  dataDir: string
  logFile: string
  startedAt?: string
}

export interface StartResult extends BrokerStatus {
  alreadyRunning: boolean
  startupMs: number
}

interface BrokerRecord {
  pid: number
  port: number
  controllerPort: number
  kafkaVersion: string
  dataDir: string
  logFile: string
  startedAt: string
}

export function brokerHome(port: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(env.ES_HOME ?? join(homedir(), '.es'), 'local', String(port))
}

function paths(home: string) {
  return {
    record: join(home, 'broker.json'),
    dataDir: join(home, 'data'),
    logFile: join(home, 'broker.log'),
    properties: join(home, 'server.properties'),
    log4j: join(home, 'log4j2.properties'),
  }
}

export async function brokerStatus(options: Pick<BrokerOptions, 'port' | 'home' | 'env'>): Promise<BrokerStatus> {
  const home = options.home ?? brokerHome(options.port, options.env)
  const p = paths(home)
  const record = await readRecord(p.record)
  const running = record !== undefined && isAlive(record.pid) && (await isListening(options.port))
  return {
    running,
    port: options.port,
    bootstrap: `127.0.0.1:${options.port}`,
    kafkaVersion: record?.kafkaVersion ?? KAFKA_VERSION,
    dataDir: record?.dataDir ?? p.dataDir,
    logFile: record?.logFile ?? p.logFile,
    ...(running && record
      ? { pid: record.pid, controllerPort: record.controllerPort, startedAt: record.startedAt }
      : {}),
  }
}

/** Starts the broker and returns once it answers requests. Idempotent: a running broker is reused. */
export async function startBroker(options: BrokerOptions): Promise<StartResult> {
  const started = Date.now()
  const env = options.env ?? process.env
  const home = options.home ?? brokerHome(options.port, env)
  const p = paths(home)
  const current = await brokerStatus({ ...options, home })
  if (current.running) return { ...current, alreadyRunning: true, startupMs: Date.now() - started }

  await requireTool('java', 'install a Java runtime 17 or newer (Debian: apt-get install openjdk-17-jre-headless)')
  if (await isListening(options.port)) {
    throw new UnreachableError(`port ${options.port} is already in use by another process`, {
      code: 'PORT_IN_USE',
      where: { port: options.port },
      suggestion: `stop what listens on ${options.port}, or choose another port with --port`,
    })
  }
  const controllerPort = options.controllerPort ?? (await pickControllerPort(options.port))
  const lib = await ensureKafkaJars(env, options.log)
  await mkdir(p.dataDir, { recursive: true })
  await writeFile(p.properties, serverProperties(options.port, controllerPort, p.dataDir, options.properties))
  await writeFile(p.log4j, log4jProperties())

  if (!existsSync(join(p.dataDir, 'meta.properties'))) {
    options.log?.(`formatting storage in ${p.dataDir}`)
    await execFileAsync(
      'java',
      javaArgs(
        lib,
        'kafka.tools.StorageTool',
        ['format', `--cluster-id=${toKafkaUuid(randomUUID())}`, '-c', p.properties, ...(options.formatArgs ?? [])],
        '-Xmx256m',
      ),
      { timeout: 120_000, env: { ...env, KAFKA_LOG4J_OPTS: '' } },
    ).catch((error) => {
      throw new InternalError(
        `formatting Kafka storage in ${p.dataDir} failed: ${lastLine(String(error.stderr ?? error))}`,
        {
          code: 'FORMAT_FAILED',
        },
      )
    })
  }

  const logFd = openSync(p.logFile, 'a')
  const child = spawn(
    'java',
    [
      '-Xms256m',
      `-Dlog4j2.configurationFile=${p.log4j}`,
      '-Djava.awt.headless=true',
      ...javaArgs(lib, 'kafka.Kafka', [p.properties]),
    ],
    { detached: true, stdio: ['ignore', logFd, logFd], env },
  )
  closeSync(logFd)
  const pid = child.pid
  if (pid === undefined) throw new InternalError('could not start java', { code: 'SPAWN_FAILED' })
  let exited: number | null | undefined
  child.on('exit', (code) => {
    exited = code
  })
  child.unref()

  const record: BrokerRecord = {
    pid,
    port: options.port,
    controllerPort,
    kafkaVersion: KAFKA_VERSION,
    dataDir: p.dataDir,
    logFile: p.logFile,
    startedAt: new Date().toISOString(),
  }
  await writeFile(p.record, `${JSON.stringify(record, null, 2)}\n`)

  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000)
  while (!(await isListening(options.port))) {
    if (exited !== undefined) {
      await rm(p.record, { force: true })
      throw new InternalError(
        `the Kafka broker exited with code ${exited} while starting: ${await logTail(p.logFile)}`,
        {
          code: 'BROKER_EXITED',
          where: { logFile: p.logFile },
        },
      )
    }
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL')
      await rm(p.record, { force: true })
      throw new UnreachableError(`the Kafka broker did not open port ${options.port} in time`, {
        code: 'BROKER_START_TIMEOUT',
        where: { logFile: p.logFile },
      })
    }
    await sleep(200)
  }
  // The port opens before the broker serves requests (it must first catch up with the controller's
  // metadata); clients connecting then are dropped. Ready means: a metadata request is answered
  // with this broker and a controller in it.
  while (!(await answersMetadata(options.port))) {
    if (exited !== undefined || Date.now() > deadline) {
      if (exited === undefined) process.kill(pid, 'SIGKILL')
      await rm(p.record, { force: true })
      throw new UnreachableError(
        `the Kafka broker on port ${options.port} did not become ready: ${await logTail(p.logFile)}`,
        {
          code: 'BROKER_START_TIMEOUT',
          where: { logFile: p.logFile },
        },
      )
    }
    await sleep(200)
  }
  return { ...(await brokerStatus({ ...options, home })), alreadyRunning: false, startupMs: Date.now() - started }
}

/** Whether the broker on `port` answers a metadata request naming itself and a controller. */
async function answersMetadata(port: number): Promise<boolean> {
  const { Kafka, logLevel } = await importKafkajs()
  const admin = new Kafka({
    clientId: 'es-local',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

/** Stops the broker cleanly (SIGTERM, then SIGKILL after `timeoutMs`) and waits for the port to be free. */
export async function stopBroker(
  options: Pick<BrokerOptions, 'port' | 'home' | 'env'> & { timeoutMs?: number },
): Promise<{ wasRunning: boolean; pid?: number }> {
  const home = options.home ?? brokerHome(options.port, options.env)
  const p = paths(home)
  const record = await readRecord(p.record)
  if (!record || !isAlive(record.pid)) {
    await rm(p.record, { force: true })
    return { wasRunning: false }
  }
  process.kill(record.pid, 'SIGTERM')
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  while (isAlive(record.pid)) {
    if (Date.now() > deadline) {
      process.kill(record.pid, 'SIGKILL')
      await sleep(200)
      break
    }
    await sleep(100)
  }
  while (await isListening(options.port)) await sleep(100)
  await rm(p.record, { force: true })
  return { wasRunning: true, pid: record.pid }
}

/** Removes the data directory of a stopped broker (tests use throw-away homes). */
export async function removeBrokerHome(home: string): Promise<void> {
  await rm(home, { recursive: true, force: true })
}

function serverProperties(
  port: number,
  controllerPort: number,
  dataDir: string,
  overrides: Record<string, string> = {},
): string {
  const lines = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // A development broker: no 3 s wait before the first group join. Benchmarks and claims
    // about latency must not rely on this (production keeps the default).
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=2',
    'log.cleaner.dedupe.buffer.size=8388608',
    // Compaction visible within seconds, for snapshots topics in tests and demos.
    'log.cleaner.backoff.ms=1000',
    'auto.create.topics.enable=true',
  ]
  const replaced = lines.filter((line) => !(line.slice(0, line.indexOf('=')) in overrides))
  return `${[...replaced, ...Object.entries(overrides).map(([key, value]) => `${key}=${value}`)].join('\n')}\n`
}

function log4jProperties(): string {
  return `${[
    'status = error',
    'appender.out.type = Console',
    'appender.out.name = out',
    'appender.out.layout.type = PatternLayout',
    'appender.out.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.out.ref = out',
    'logger.kafka.name = kafka',
    'logger.kafka.level = warn',
    'logger.apache.name = org.apache.kafka',
    'logger.apache.level = warn',
    'logger.started.name = kafka.server.KafkaRaftServer',
    'logger.started.level = info',
  ].join('\n')}\n`
}

/** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding (22 characters). */
function toKafkaUuid(uuid: string): string {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64url')
}

async function pickControllerPort(port: number): Promise<number> {
  if (!(await isListening(port + 1)) && (await canBind(port + 1))) return port + 1
  return freePort()
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (answer: boolean) => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(1000)
    socket.once('connect', () => done(true))
    socket.once('timeout', () => done(false))
    socket.once('error', () => done(false))
    socket.connect(port, host)
  })
}

/**
 * The local brokers (`es local start`) whose process is alive, from their records under
 * `$ES_HOME/local/*`; synchronous and without network, for error messages ("the local broker is
 * at …").
 */
export function runningLocalBrokers(
  env: NodeJS.ProcessEnv = process.env,
): Array<{ port: number; controllerPort: number }> {
  const root = join(env.ES_HOME ?? join(homedir(), '.es'), 'local')
  let entries: string[]
  try {
    entries = readdirSync(root)
  } catch {
    return []
  }
  const running: Array<{ port: number; controllerPort: number }> = []
  for (const entry of entries.sort()) {
    try {
      const record = JSON.parse(readFileSync(paths(join(root, entry)).record, 'utf8')) as BrokerRecord
      if (isAlive(record.pid)) running.push({ port: record.port, controllerPort: record.controllerPort })
    } catch {
      // not a broker home, or no record: not running
    }
  }
  return running
}

async function readRecord(file: string): Promise<BrokerRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BrokerRecord
  } catch {
    return undefined
  }
}

async function logTail(file: string): Promise<string> {
  try {
    const lines = (await readFile(file, 'utf8')).trim().split('\n')
    return lines.filter((line) => /ERROR|Exception/.test(line)).slice(-1)[0] ?? lines.slice(-1)[0] ?? ''
  } catch {
    return '(no log)'
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? ''
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
