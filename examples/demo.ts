/**
 * `npm run demo`: the main job on the embedded default. Starts a local Kafka (`es local start`),
 * runs the sample bank service (command handler + projector into a SQLite read model), and lets
 * `es` operate it: send commands and wait for their events (one accepted, one rejected for a
 * stale version, one for an overdraft), tail the events, replay them into state, show the
 * snapshots topic, diff the replayed state against the read model (then change a row behind the
 * projector's back, diff again, and rebuild the read model from the events). The broker keeps running afterwards for you to try commands;
 * the service processes are stopped, and `npm run demo:serve` runs them again on the demo's read
 * model (in the foreground: Ctrl-C stops them), so that `es send-command … --wait` has a service.
 *
 *   npm run demo                  # broker on 127.0.0.1:9092 (ES_DEMO_PORT to change)
 *   npm run demo:serve            # the sample service on that broker and the demo's read model
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { parse, stringify } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const esBin = join(root, 'bin/run.js')
const port = Number(process.env.ES_DEMO_PORT ?? 9092)
const brokers = `127.0.0.1:${port}`
const work = join(root, '.es', 'demo', String(port))
const readModel = join(work, 'bank-accounts.db')
const config = join(work, 'es.config.yaml')
const env = { ...process.env, ES_BROKERS: brokers, ES_CONFIG: config }

/** The bank's es.config.yaml with its read model pointed at the demo's SQLite file. */
function writeDemoConfig(): void {
  const source = join(root, 'examples/bank/es.config.yaml')
  const document = parse(readFileSync(source, 'utf8'))
  document.brokers = brokers
  const accounts = document.services.bank.projections.accounts
  accounts.reducer = join(root, 'examples/bank/reducer.js')
  accounts.readModel.file = readModel
  writeFileSync(config, `# written by npm run demo from examples/bank/es.config.yaml\n${stringify(document)}`)
}

function banner(text: string): void {
  process.stderr.write(`\n\x1b[1m# ${text}\x1b[0m\n`)
}

/** Runs `es …` as a user would, showing the command line; returns its exit code. */
function es(args: string[], expect: number[] = [0]): number {
  process.stderr.write(`\x1b[2m$ es ${args.map((a) => (/[\s{}"']/.test(a) ? `'${a}'` : a)).join(' ')}\x1b[0m\n`)
  const result = spawnSync(process.execPath, [esBin, ...args], { stdio: 'inherit', env })
  const code = result.status ?? 1
  if (!expect.includes(code)) throw new Error(`es ${args.join(' ')} exited ${code}, expected ${expect.join(' or ')}`)
  if (code !== 0) process.stderr.write(`\x1b[2m(exit ${code}, as expected)\x1b[0m\n`)
  return code
}

/** Starts a service process; `ready` resolves when it logs that it has started (60 s at most). */
function startService(name: string, args: string[]): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [join(root, `dist/examples/bank/${name}.js`), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  })
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s`)), 60_000)
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code}`)))
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').trimEnd().split('\n')) {
        process.stderr.write(`\x1b[2m[${name}] ${line}\x1b[0m\n`)
        if (/\bstarted:/.test(line)) {
          clearTimeout(timer)
          resolve()
        }
      }
    })
  })
  ready.catch(() => {})
  return { child, ready }
}

async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true })
  // The projector resumes from the offsets kept in its read model: a fresh one is rebuilt from
  // whatever this broker holds, also when the broker's data was wiped since the last demo.
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${readModel}${suffix}`, { force: true })
  writeDemoConfig()
  banner(`a local Apache Kafka on ${brokers}`)
  es(['local', 'start', '--port', String(port)])

  banner('the sample bank service: command handler and projector (SQLite read model)')
  const handler = startService('command-handler', ['--brokers', brokers])
  const projector = startService('projector', ['--brokers', brokers, '--read-model', `sqlite:${readModel}`])
  const account = `acc-${randomBytes(3).toString('hex')}`
  try {
    await Promise.all([handler.ready, projector.ready])
    banner(`send commands to ${account} and wait for the events they cause`)
    es([
      'send-command',
      'OpenAccount',
      '--key',
      account,
      '--data',
      '{"owner":"Ada Lovelace"}',
      '--wait',
      '--timeout',
      '30s',
    ])
    es([
      'send-command',
      'DepositFunds',
      '--key',
      account,
      '--data',
      '{"amount":100}',
      '--expected-version',
      '1',
      '--wait',
    ])
    banner('a stale expected version is rejected (exit 1)')
    es(
      [
        'send-command',
        'WithdrawFunds',
        '--key',
        account,
        '--data',
        '{"amount":30}',
        '--expected-version',
        '1',
        '--wait',
      ],
      [1],
    )
    banner('so is an overdraft (exit 1)')
    es(['send-command', 'WithdrawFunds', '--key', account, '--data', '{"amount":1000}', '--wait'], [1])
    es([
      'send-command',
      'WithdrawFunds',
      '--key',
      account,
      '--data',
      '{"amount":30}',
      '--expected-version',
      '2',
      '--wait',
    ])
    banner('invalid input never leaves the machine (exit 5 and exit 3)')
    es(['send-command', 'DepositFunds', '--key', account, '--data', '{"amount":-5}'], [5])
    es(['send-command', 'DepositFund', '--key', account, '--data', '{"amount":5}'], [3])

    banner(`the events of ${account}, read to the end and stopped`)
    es(['tail', 'events', '--from-beginning', '-e', '--key', account])

    banner('replay every event into state, exactly to the end fixed at start')
    es([
      'replay',
      '--from-beginning',
      '--projection',
      'accounts',
      '--state',
      join(work, 'replay-state.db'),
      '--out',
      join(work, 'accounts.json'),
    ])
    es(['replay', '--projection', 'accounts', '--from-beginning', '--aggregate', account, '--trace'])

    banner('the snapshots topic, latest state per account')
    waitForSnapshot(account)
    es(['snapshots', account])

    banner('diff the replayed state against the read model the projector wrote')
    waitForRow(account, 70)
    es(['diff', 'accounts'])
    banner(`change ${account}'s row behind the projector's back, and diff again`)
    updateRow('UPDATE accounts SET balance = balance + 5 WHERE id = ?', account)
    es(['diff', 'accounts'], [1])

    banner('rebuild the read model from the events (shadow table, atomic swap), then diff once more')
    es(['rebuild-projection', 'accounts', '--dry-run'])
    es(['rebuild-projection', 'accounts', '--yes'])
    es(['diff', 'accounts'])

    banner("the projector's consumer group: committed offsets against the log, and a reset's dry run")
    es(['checkpoints', 'bank-projector'])
    es(['checkpoints', 'bank-projector', '--reset-to', 'beginning', '--dry-run'])

    banner('topics and consumer groups at a glance')
    es(['topics', 'bank'])
    es(['groups'])
  } finally {
    await Promise.all([stopService(handler.child), stopService(projector.child)])
  }
  banner('done')
  process.stderr.write(
    `The broker keeps running on ${brokers}; the sample service was stopped. Try:\n  npm run demo:serve              # the service again, on the demo's read model (Ctrl-C stops it)\n  export ES_CONFIG=${config}\n  node bin/run.js send-command DepositFunds --key ${account} --data '{"amount":10}' --wait\n  node bin/run.js tail events --from-beginning -e\n  node bin/run.js snapshots\n  node bin/run.js diff accounts\n  node bin/run.js local stop${port === 9092 ? '' : ` --port ${port}`}\n`,
  )
}

/**
 * `npm run demo:serve`: the command handler and the projector on the demo's broker and read model,
 * until Ctrl-C (or SIGTERM) stops them. The projector resumes from the offsets in its read model.
 */
async function serve(): Promise<void> {
  mkdirSync(work, { recursive: true })
  writeDemoConfig()
  const handler = startService('command-handler', ['--brokers', brokers])
  const projector = startService('projector', ['--brokers', brokers, '--read-model', `sqlite:${readModel}`])
  try {
    await Promise.all([handler.ready, projector.ready])
    process.stderr.write(
      `serving the sample bank service on ${brokers} (read model ${readModel}); Ctrl-C stops it\n  export ES_CONFIG=${config}\n`,
    )
    await new Promise((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
  } finally {
    await Promise.all([stopService(handler.child), stopService(projector.child)])
  }
}

/** The projector commits rows asynchronously; wait (bounded) until the account's shows `balance`. */
function waitForRow(account: string, balance: number): void {
  for (let attempt = 0; attempt < 100; attempt++) {
    const db = new Database(readModel, { readonly: true })
    const row = db.prepare('SELECT balance FROM accounts WHERE id = ?').get(account) as { balance: number } | undefined
    db.close()
    if (row?.balance === balance) return
    spawnSync('sleep', ['0.1'])
  }
  throw new Error(`the read model never showed ${account} with balance ${balance}`)
}

function updateRow(sql: string, account: string): void {
  const db = new Database(readModel)
  db.prepare(sql).run(account)
  db.close()
}

/** The projector publishes snapshots asynchronously; wait (bounded) until the account's is there. */
function waitForSnapshot(account: string): void {
  for (let attempt = 0; attempt < 50; attempt++) {
    const result = spawnSync(process.execPath, [esBin, 'snapshots', account, '--json'], { env, encoding: 'utf8' })
    if (result.status === 0 && /"balance":\s*70/.test(result.stdout)) return
    spawnSync('sleep', ['0.2'])
  }
}

;(process.argv[2] === 'serve' ? serve() : main()).catch((error) => {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`)
  process.exit(1)
})
