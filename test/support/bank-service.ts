/**
 * The sample bank service (examples/bank) running on the test broker for command tests: its
 * command handler and projector as child processes on topics of their own, and a copy of
 * examples/bank/es.config.yaml that points `es` at those topics and at the test broker.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { type EsRun, runEs } from './cli.js'
import { testBrokers, uniqueTopic } from './kafka.js'
import { ServiceProcess } from './service-process.js'

const here = dirname(fileURLToPath(import.meta.url))
/** The repository root (this file runs as dist/test/support/bank-service.js). */
export const repoRoot = join(here, '../../..')
const bankScripts = join(here, '../../examples/bank')

export interface BankTopics {
  commands: string
  events: string
  snapshots: string
}

/** The parts of an es config document these tests change. */
export interface ConfigDocument {
  brokers?: string
  services: Record<
    string,
    {
      streams?: Record<string, string>
      projections?: Record<string, { reducer?: string; readModel?: Record<string, unknown> }>
    }
  >
}

export interface RunningBank {
  /** A temporary directory holding the config and the read model; removed by `stop`. */
  dir: string
  /** The es config for this bank: `es send-command … --config <configFile>`. */
  configFile: string
  topics: BankTopics
  handler: ServiceProcess
  projector: ServiceProcess
  /** SIGTERM to both processes, then removes `dir`; returns their exit codes. */
  stop(): Promise<{ handler: number | null; projector: number | null }>
}

/**
 * Writes a copy of an example's es.config.yaml into `dir` after `edit` changed its parsed
 * document; relative paths in it still point into the example's directory.
 */
export async function writeConfigCopy(
  source: string,
  dir: string,
  edit: (config: ConfigDocument) => void,
): Promise<string> {
  const config = parse(await readFile(source, 'utf8')) as ConfigDocument
  for (const service of Object.values(config.services ?? {})) {
    for (const projection of Object.values(service.projections ?? {})) {
      if (typeof projection.reducer === 'string' && projection.reducer.startsWith('.')) {
        projection.reducer = join(dirname(source), projection.reducer)
      }
    }
  }
  edit(config)
  const file = join(dir, 'es.config.yaml')
  await writeFile(file, stringify(config))
  return file
}

/** Starts the bank's command handler and projector on new topics; ready when both say `started:`. */
export async function startBank(prefix = 'bank'): Promise<RunningBank> {
  const brokers = testBrokers()
  const dir = await mkdtemp(join(tmpdir(), `es-${prefix}-`))
  const topics: BankTopics = {
    commands: uniqueTopic(`${prefix}-commands`),
    events: uniqueTopic(`${prefix}-events`),
    snapshots: uniqueTopic(`${prefix}-snapshots`),
  }
  const readModel = join(dir, 'bank-accounts.db')
  const configFile = await writeConfigCopy(join(repoRoot, 'examples/bank/es.config.yaml'), dir, (config) => {
    config.brokers = brokers
    const bank = config.services.bank
    bank.streams = { ...topics }
    const accounts = bank.projections?.accounts?.readModel
    if (!accounts) throw new Error('examples/bank/es.config.yaml has no accounts read model')
    accounts.file = readModel
  })
  const common = ['--brokers', brokers, '--partitions', '3']
  const started = await Promise.allSettled([
    ServiceProcess.start(
      'command-handler',
      join(bankScripts, 'command-handler.js'),
      [
        ...common,
        '--commands-topic',
        topics.commands,
        '--events-topic',
        topics.events,
        '--group',
        uniqueTopic(`${prefix}-handler`),
      ],
      { ready: /started:/ },
    ),
    ServiceProcess.start(
      'projector',
      join(bankScripts, 'projector.js'),
      [
        ...common,
        '--events-topic',
        topics.events,
        '--snapshots-topic',
        topics.snapshots,
        '--group',
        uniqueTopic(`${prefix}-projector`),
        '--read-model',
        `sqlite:${readModel}`,
      ],
      { ready: /started:/ },
    ),
  ])
  const failure = started.find((s) => s.status === 'rejected')
  if (failure) {
    // Leave no child behind: it would keep the test file running until its timeout.
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)))
    await rm(dir, { recursive: true, force: true })
    throw failure.reason
  }
  const [handler, projector] = started.map((s) => (s as PromiseFulfilledResult<ServiceProcess>).value)
  return {
    dir,
    configFile,
    topics,
    handler,
    projector,
    async stop() {
      const [handlerCode, projectorCode] = await Promise.all([handler.stop(), projector.stop()])
      await rm(dir, { recursive: true, force: true })
      return { handler: handlerCode, projector: projectorCode }
    },
  }
}

/**
 * A second projector of `bank`'s events into a PostgreSQL schema of its own (`schema.accounts`),
 * and a copy of the bank's config whose `accounts` projection reads that table.
 */
export async function startPostgresProjector(
  bank: RunningBank,
  url: string,
  prefix: string,
): Promise<{ projector: ServiceProcess; schema: string; configFile: string }> {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`
  const projector = await ServiceProcess.start(
    'projector (postgres)',
    join(bankScripts, 'projector.js'),
    [
      '--brokers',
      testBrokers(),
      '--events-topic',
      bank.topics.events,
      '--snapshots-topic',
      uniqueTopic(`${prefix}-snapshots-pg`),
      '--group',
      uniqueTopic(`${prefix}-projector-pg`),
      '--read-model',
      url,
      '--schema',
      schema,
    ],
    { ready: /started:/ },
  )
  const dir = await mkdtemp(join(tmpdir(), `es-${prefix}-pg-`))
  const configFile = await writeConfigCopy(bank.configFile, dir, (config) => {
    const accounts = config.services.bank.projections?.accounts
    if (!accounts) throw new Error('the bank config has no accounts projection')
    accounts.readModel = { type: 'postgres', url, table: `${schema}.accounts` }
  })
  return { projector, schema, configFile }
}

/** `es send-command <type> --key <key> --data <json> --wait` against `bank`; the run as it ended. */
export function sendCommand(
  bank: Pick<RunningBank, 'configFile'>,
  type: string,
  key: string,
  data: object,
): Promise<EsRun> {
  return runEs(
    [
      'send-command',
      type,
      '--key',
      key,
      '--data',
      JSON.stringify(data),
      '--wait',
      '--timeout',
      '30s',
      '--config',
      bank.configFile,
    ],
    { env: { ES_CONFIG: undefined, ES_BROKERS: undefined } },
  )
}
