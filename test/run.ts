/**
 * The test command (`npm test`): starts a throw-away Kafka broker (through the same code as
 * `es local start`, on free ports with a temporary home) and a real PostgreSQL, runs every test
 * file in one `node --test` run so its closing lines count them all, and stops both at the end,
 * also when tests fail or the run is interrupted.
 *
 *   node dist/test/run.js            unit, integration and command tests
 *   node dist/test/run.js --unit     unit tests only (no broker, no database)
 *   node dist/test/run.js FILTER…    only test files whose path contains a FILTER
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, removeBrokerHome, startBroker, stopBroker } from '../src/local/broker.js'
import { type RunningPostgres, startPostgres } from './support/postgres.js'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const unitOnly = args.includes('--unit')
// A filter may name a file as in the source tree (test/commands/tail.test.ts) or under dist/test.
const filters = args
  .filter((a) => !a.startsWith('--'))
  .map((a) => a.replace(/^(\.\/)?(dist\/)?(test\/)?/, '').replace(/\.(ts|js)$/, ''))

function testFiles(dir: string): string[] {
  const out: string[] = []
  if (!existsSync(dir)) return out
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) out.push(...testFiles(path))
    else if (entry.endsWith('.test.js')) out.push(path)
  }
  return out.sort()
}

const suites = unitOnly ? ['unit'] : ['unit', 'integration', 'commands']
const files = suites
  .flatMap((suite) => testFiles(join(here, suite)))
  .filter((file) => filters.length === 0 || filters.some((f) => relative(here, file).includes(f)))
if (files.length === 0) {
  process.stderr.write(`no test file matches ${filters.join(', ')}\n`)
  process.exit(2)
}
const needsServers = files.some((file) => !relative(here, file).startsWith('unit'))

let brokerPort: number | undefined
let brokerHome: string | undefined
let postgres: RunningPostgres | undefined
let cleaning: Promise<void> | undefined

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (brokerPort !== undefined && brokerHome !== undefined) {
      await stopBroker({ port: brokerPort, home: brokerHome }).catch(() => {})
      await removeBrokerHome(brokerHome)
    }
    await postgres?.stop().catch(() => {})
  })()
  return cleaning
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup().finally(() => process.exit(130))
  })
}

async function main(): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  if (needsServers) {
    const started = Date.now()
    brokerPort = await freePort()
    brokerHome = await mkdtemp(join(tmpdir(), 'es-test-kafka-'))
    const [broker, pg] = await Promise.all([
      startBroker({ port: brokerPort, home: brokerHome, log: (line) => process.stderr.write(`${line}\n`) }),
      startPostgres(),
    ])
    postgres = pg
    env.ES_TEST_BROKERS = broker.bootstrap
    env.ES_TEST_PG_URL = pg.url
    env.ES_TEST_KAFKA_HOME = brokerHome
    process.stderr.write(
      `test servers ready in ${((Date.now() - started) / 1000).toFixed(1)}s: Kafka ${broker.bootstrap}, PostgreSQL ${pg.url}\n`,
    )
  }
  // A hung file fails after 10 minutes. The longest file (read-models-scale: rebuild and diff of
  // 1,000,000 aggregates, twice) took 106-171 s on this 2-core machine from run to run, sharing it
  // with another file: 3 minutes was too close.
  const child = spawn(
    process.execPath,
    ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=600000', ...files],
    { stdio: 'inherit', env },
  )
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
}

let code = 1
try {
  code = await main()
} finally {
  await cleanup()
}
process.exit(code)
