/**
 * `es replay` end to end: the real binary against the real broker started by test/run.ts, with
 * events written by kcat (librdkafka) and folded by the bank example's reducer
 * (examples/bank/reducer.js) through the bank example's config (examples/bank/es.config.yaml),
 * each test on its own topic (`--topic`). Expected states are computed here from the events the
 * test generated, independently of the reducer.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { esBin, runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { type KcatRecord, kcatConsume, kcatProduce } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'

const brokers = testBrokers()
const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const bankConfig = join(repo, 'examples/bank/es.config.yaml')
const bankReducer = join(repo, 'examples/bank/reducer.js')

interface AccountState {
  id: string
  owner: string | null
  balance: number
  status: string
  version: number
  updatedAt: number | null
}

interface PartitionReach {
  topic: string
  partition: number
  start: number
  end: number
  reached: number
}

interface ReplayJson {
  complete: boolean
  state: string
  reducer: string
  topics: string[]
  resumed: boolean
  workers: number
  events: number
  aggregates: number
  skippedCount: number
  skipped: Array<{ topic: string; partition: number; offset: number; reason: string }>
  durationMs: number
  eventsPerSecond: number
  partitions: PartitionReach[]
  aggregateState?: unknown
  out?: { file: string; aggregates: number }
}

/**
 * Bank events (the wire shape of examples/bank) for `accounts` accounts, `perAccount` events each,
 * interleaved across accounts, versions 1… per account; every 7th account is closed at the end.
 */
function bankEvents(prefix: string, accounts: number, perAccount: number): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const base = Date.UTC(2024, 0, 1)
  for (let version = 1; version <= perAccount; version++) {
    for (let a = 0; a < accounts; a++) {
      const id = `${prefix}-${a}`
      const n = out.length
      let type: string
      let data: Record<string, unknown>
      if (version === 1) {
        type = 'AccountOpened'
        data = { accountId: id, owner: `owner-${a % 13}` }
      } else if (version === perAccount && a % 7 === 0) {
        type = 'AccountClosed'
        data = {}
      } else if ((a + version) % 3 === 0) {
        type = 'FundsWithdrawn'
        data = { amount: (a * 7 + version * 3) % 20 }
      } else {
        type = 'FundsDeposited'
        data = { amount: ((a * 11 + version * 13) % 97) + 1 }
      }
      const event = {
        type,
        id: `evt-${n}`,
        causationId: `cmd-${n}`,
        version,
        timestamp: new Date(base + n * 1000).toISOString(),
        data,
      }
      out.push([id, JSON.stringify(event)])
    }
  }
  return out
}

/** The accounts the bank's rules give for those events, computed here, not by the reducer. */
function expectedAccounts(events: Array<[string, string]>): Record<string, AccountState> {
  const accounts: Record<string, AccountState> = {}
  for (const [id, text] of events) {
    const event = JSON.parse(text)
    accounts[id] ??= { id, owner: null, balance: 0, status: 'unopened', version: 0, updatedAt: null }
    const account = accounts[id]
    if (event.type === 'AccountOpened') {
      account.owner = event.data.owner
      account.status = 'open'
    }
    if (event.type === 'FundsDeposited') account.balance += event.data.amount
    if (event.type === 'FundsWithdrawn') account.balance -= event.data.amount
    if (event.type === 'AccountClosed') account.status = 'closed'
    account.version = event.version
    account.updatedAt = Date.parse(event.timestamp)
  }
  return Object.fromEntries(Object.entries(accounts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** `es replay` with the bank config, the test broker and `topic`; the run as it ended. */
function runReplay(topic: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return runEs(['replay', '--config', bankConfig, '--brokers', brokers, '--topic', topic, ...args], {
    env,
    timeoutMs: 170_000,
  })
}

/** `es replay` with the bank config on `topic`, `--json`; returns the parsed summary. */
async function replay(topic: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ReplayJson> {
  const run = await runReplay(topic, ['--json', ...args], env)
  assert.equal(run.code, 0, `es replay ${args.join(' ')}\n${run.stderr}\n${run.stdout.slice(0, 2000)}`)
  return JSON.parse(run.stdout) as ReplayJson
}

function partitionEnds(records: KcatRecord[]): Map<number, number> {
  const ends = new Map<number, number>()
  for (const r of records) ends.set(r.partition, Math.max(ends.get(r.partition) ?? 0, r.offset + 1))
  return ends
}

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'es-replay-test-'))
  assert.ok(existsSync(bankReducer), `the bank example's reducer at ${bankReducer}`)
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('es replay of bank events with the bank reducer', () => {
  const topic = uniqueTopic('es-replay-bank')
  const events = bankEvents('acc', 24, 12)
  let records: KcatRecord[]

  before(async () => {
    await createTopic(topic, 3)
    await kcatProduce(brokers, topic, events)
    records = await kcatConsume(brokers, topic)
    assert.equal(records.length, events.length)
  })

  it('--json summarises events, aggregates and the offsets reached per partition', async () => {
    const result = await replay(topic, ['--projection', 'accounts', '--from-beginning'])
    const ends = partitionEnds(records)
    assert.equal(result.complete, true)
    assert.equal(result.resumed, false)
    assert.equal(result.state, 'memory')
    assert.equal(result.reducer, bankReducer)
    assert.deepEqual(result.topics, [topic])
    assert.equal(result.events, events.length)
    assert.equal(result.aggregates, 24)
    assert.equal(result.skippedCount, 0)
    assert.deepEqual(result.skipped, [])
    assert.equal(typeof result.durationMs, 'number')
    assert.equal(typeof result.eventsPerSecond, 'number')
    assert.deepEqual(
      [...result.partitions].sort((a, b) => a.partition - b.partition),
      [0, 1, 2].map((partition) => ({
        topic,
        partition,
        start: 0,
        end: ends.get(partition) ?? 0,
        reached: ends.get(partition) ?? 0,
      })),
    )
  })

  it('--until <offset> stops before that offset in every partition', async () => {
    const result = await replay(topic, ['--projection', 'accounts', '--from-beginning', '--until', '30'])
    const ends = partitionEnds(records)
    assert.equal(result.complete, true)
    for (const p of result.partitions) {
      assert.equal(p.end, Math.min(30, ends.get(p.partition) ?? 0))
      assert.equal(p.reached, p.end)
    }
    assert.equal(result.events, records.filter((r) => r.offset < 30).length)
  })

  it('an unknown topic exits 6 naming a near match', async () => {
    const run = await runEs([
      'replay',
      '--config',
      bankConfig,
      '--brokers',
      brokers,
      '--topic',
      topic.slice(0, -1),
      '--projection',
      'accounts',
    ])
    assert.equal(run.code, 6, run.stderr)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.ok(run.stderr.includes(topic), run.stderr)
  })

  it('--out writes the final state as JSON, or NDJSON for .ndjson', async () => {
    const expected = expectedAccounts(events)
    const jsonFile = join(dir, 'bank-state.json')
    const ndjsonFile = join(dir, 'bank-state.ndjson')

    const json = await replay(topic, ['--reducer', bankReducer, '--from-beginning', '--out', jsonFile])
    assert.deepEqual(json.out, { file: jsonFile, aggregates: 24 })
    assert.deepEqual(JSON.parse(await readFile(jsonFile, 'utf8')), expected)

    const nd = await replay(topic, ['--projection', 'accounts', '--from-beginning', '--out', ndjsonFile])
    assert.equal(nd.out?.aggregates, 24)
    const lines = (await readFile(ndjsonFile, 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { aggregateId: string; state: AccountState })
    assert.equal(lines.length, 24)
    assert.deepEqual(Object.fromEntries(lines.map((l) => [l.aggregateId, l.state])), expected)
  })

  it('--aggregate X --trace prints each event of X and the state after it', async () => {
    const account = 'acc-5'
    const own = events.filter(([key]) => key === account)
    const run = await runReplay(topic, [
      '--projection',
      'accounts',
      '--from-beginning',
      '--aggregate',
      account,
      '--trace',
    ])
    assert.equal(run.code, 0, run.stderr)
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    assert.equal(lines.length, own.length + 1, 'one line per event, then the final state')
    const positions = records.filter((r) => r.key === account).sort((a, b) => a.offset - b.offset)
    for (const [i, [, text]] of own.entries()) {
      const event = JSON.parse(text)
      const line = lines[i]
      assert.equal(line.type, event.type)
      assert.equal(line.version, event.version)
      assert.equal(line.topic, topic)
      assert.equal(line.partition, positions[i].partition)
      assert.equal(line.offset, positions[i].offset)
      assert.deepEqual(line.state, expectedAccounts(own.slice(0, i + 1))[account], `state after event ${i + 1}`)
    }
    assert.deepEqual(lines.at(-1), expectedAccounts(own)[account])
  })
})

describe('es replay of undecodable records and failing reducers', () => {
  const topic = uniqueTopic('es-replay-bad')
  const events = bankEvents('bad', 6, 4)
  let badRecord: KcatRecord

  before(async () => {
    await createTopic(topic, 2)
    await kcatProduce(brokers, topic, events.slice(0, 12))
    await kcatProduce(brokers, topic, [['bad-3', '{"type":"FundsDeposited", not json']])
    await kcatProduce(brokers, topic, events.slice(12))
    badRecord = (await kcatConsume(brokers, topic)).find((r) => r.payload!.includes('not json'))!
    assert.ok(badRecord)
  })

  it('--on-error fail (the default) exits 5 naming topic, partition and offset', async () => {
    const run = await runReplay(topic, ['--projection', 'accounts', '--from-beginning'])
    assert.equal(run.code, 5, run.stderr)
    assert.equal(run.stdout, '')
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.ok(run.stderr.includes(`${topic}/${badRecord.partition}@${badRecord.offset}`), run.stderr)

    const json = await runReplay(topic, ['--projection', 'accounts', '--from-beginning', '--json'])
    assert.equal(json.code, 5)
    const error = JSON.parse(json.stdout).error
    assert.equal(error.exitCode, 5)
    assert.deepEqual(
      { topic: error.where.topic, partition: error.where.partition, offset: error.where.offset },
      { topic, partition: badRecord.partition, offset: badRecord.offset },
    )
  })

  it('--on-error skip lists the skipped record and folds the rest (exit 0)', async () => {
    const out = join(dir, 'skip.json')
    const result = await replay(topic, [
      '--projection',
      'accounts',
      '--from-beginning',
      '--on-error',
      'skip',
      '--out',
      out,
    ])
    assert.equal(result.complete, true)
    assert.equal(result.events, events.length)
    assert.equal(result.skippedCount, 1)
    assert.equal(result.skipped.length, 1)
    const [skipped] = result.skipped
    assert.deepEqual(
      { topic: skipped.topic, partition: skipped.partition, offset: skipped.offset },
      { topic, partition: badRecord.partition, offset: badRecord.offset },
    )
    assert.match(skipped.reason, /JSON/)
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), expectedAccounts(events))

    // Without --json the skipped record is listed on stderr, stdout stays empty.
    const run = await runReplay(topic, ['--projection', 'accounts', '--from-beginning', '--on-error', 'skip'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, '')
    assert.ok(run.stderr.includes(`${topic}/${badRecord.partition}@${badRecord.offset}`), run.stderr)
  })

  it('a reducer that throws exits 5 naming the event and the reducer file', async () => {
    const reducer = join(dir, 'throwing-reducer.js')
    await writeFile(
      reducer,
      [
        'export function initialState() { return { withdrawn: 0 } }',
        'export function evolve(state, event) {',
        "  if (event.type === 'FundsWithdrawn') throw new Error('withdrawals are not supported')",
        '  return state',
        '}',
        '',
      ].join('\n'),
    )
    const run = await runReplay(topic, ['--reducer', reducer, '--from-beginning', '--on-error', 'skip'])
    assert.equal(run.code, 5, run.stderr)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.ok(run.stderr.includes(reducer), `reducer file in: ${run.stderr}`)
    assert.match(run.stderr, /FundsWithdrawn/)
    assert.match(run.stderr, /withdrawals are not supported/)
    const at = new RegExp(`${topic}/(\\d+)@(\\d+)`).exec(run.stderr)
    assert.ok(at, `topic/partition@offset in: ${run.stderr}`)
    const named = (await kcatConsume(brokers, topic)).find(
      (r) => r.partition === Number(at[1]) && r.offset === Number(at[2]),
    )
    assert.equal(JSON.parse(named!.payload!).type, 'FundsWithdrawn', 'the named record is the one it threw on')
  })
})

describe('es replay --state <file>', () => {
  const topic = uniqueTopic('es-replay-state')
  const events = bankEvents('st', 10, 5)

  before(async () => {
    await createTopic(topic, 2)
    await kcatProduce(brokers, topic, events)
  })

  it('continues from the stored offsets, and refuses a file written by another reducer or topic', async () => {
    const file = join(dir, 'refuse.db')
    const first = await replay(topic, ['--reducer', 'count', '--state', file, '--from-beginning'])
    assert.equal(first.events, events.length)

    // Nothing new: a second run continues at the stored offsets and folds nothing.
    const again = await replay(topic, ['--reducer', 'count', '--state', file])
    assert.equal(again.resumed, true)
    assert.equal(again.events, 0)
    assert.equal(again.aggregates, 10)
    for (const p of again.partitions) assert.equal(p.start, p.end)

    const more = bankEvents('st2', 3, 2)
    await kcatProduce(brokers, topic, more)
    const continued = await replay(topic, ['--reducer', 'count', '--state', file])
    assert.equal(continued.resumed, true)
    assert.equal(continued.events, more.length)
    assert.equal(continued.aggregates, 13)

    for (const args of [
      ['--reducer', 'latest', '--state', file],
      ['--reducer', bankReducer, '--state', file],
    ]) {
      const refused = await runReplay(topic, [...args])
      assert.equal(refused.code, 3, refused.stderr)
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr)
      assert.ok(refused.stderr.includes(file), refused.stderr)
      assert.match(refused.stderr, /--from-beginning/)
    }
    const otherTopic = uniqueTopic('es-replay-state-other')
    await createTopic(otherTopic, 1)
    const wrongTopic = await runReplay(otherTopic, ['--reducer', 'count', '--state', file])
    assert.equal(wrongTopic.code, 3, wrongTopic.stderr)

    const restarted = await replay(topic, ['--reducer', 'latest', '--state', file, '--from-beginning'])
    assert.equal(restarted.resumed, false)
    assert.equal(restarted.events, events.length + more.length)
  })
})

describe('es replay killed with SIGKILL during a file-backed replay', () => {
  const topic = uniqueTopic('es-replay-kill')
  // Large enough for several commits (every 50,000 events, per worker when folding in parallel).
  const events = bankEvents('k', 20_000, 20)
  const total = events.length

  before(async () => {
    await createTopic(topic, 4)
    await kcatProduce(brokers, topic, events)
  })

  /**
   * The bank reducer, slowed down when SLOW_REDUCER is set, so a kill lands mid-way. One file, so
   * the same reducer identity for a killed run and the resumed one.
   */
  async function slowBankReducer(): Promise<string> {
    const reducer = join(dir, 'slow-bank-reducer.js')
    await writeFile(
      reducer,
      [
        `import * as bank from ${JSON.stringify(pathToFileURL(bankReducer).href)}`,
        'const slow = process.env.SLOW_REDUCER === "1"',
        'let folded = 0',
        'export const initialState = bank.initialState',
        'export function evolve(state, event) {',
        '  if (slow && ++folded % 100 === 0) { const until = Date.now() + 2; while (Date.now() < until) {} }',
        '  return bank.evolve(state, event)',
        '}',
        '',
      ].join('\n'),
    )
    return reducer
  }

  /** The directories of rounds (src/replay/fold.ts) beside a state file. */
  function spillsOf(file: string): string[] {
    return readdirSync(dirname(file)).filter((entry) => entry.startsWith(`${basename(file)}.rounds-`))
  }

  function committedOffsets(file: string): Map<string, number> {
    const db = new Database(file, { readonly: true, fileMustExist: true })
    try {
      const rows = db.prepare('SELECT topic, partition, next_offset FROM offsets').all() as Array<{
        topic: string
        partition: number
        next_offset: number
      }>
      return new Map(rows.map((r) => [`${r.topic}/${r.partition}`, r.next_offset]))
    } finally {
      db.close()
    }
  }

  // The default cache holds all 20,000 accounts; a cache of 1,000 makes the killed run evict (and
  // write into the uncommitted transaction) all the time. With --workers 2, two threads fold into
  // the one file, each committing its partitions' offsets with its states.
  for (const [cache, workers] of [
    [undefined, undefined],
    ['1000', undefined],
    [undefined, '2'],
    ['1000', '2'],
  ] as const) {
    const cacheArgs = cache === undefined ? [] : ['--cache', cache]
    const workerArgs = workers === undefined ? [] : ['--workers', workers]
    const name = `${cache === undefined ? 'default' : `cache-${cache}`}${workers === undefined ? '' : `-workers-${workers}`}`
    it(`resumes without --from-beginning and ends in the state of an uninterrupted replay (cache: ${cache ?? 'default'}, ${workers ?? 1} thread(s))`, async () => {
      const reducer = await slowBankReducer()
      const killedFile = join(dir, `killed-${name}.db`)
      const inRounds = cache !== undefined && workers === undefined
      const resumedOut = join(dir, `resumed-${name}.json`)
      const fullFile = join(dir, `full-${name}.db`)
      const fullOut = join(dir, `full-${name}.json`)

      const child: ChildProcess = spawn(
        process.execPath,
        [
          esBin,
          'replay',
          '--config',
          bankConfig,
          '--brokers',
          brokers,
          '--topic',
          topic,
          '--reducer',
          reducer,
          '--state',
          killedFile,
          '--from-beginning',
          ...cacheArgs,
          ...workerArgs,
        ],
        { env: { ...process.env, NO_COLOR: '1', SLOW_REDUCER: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
      )
      let stderr = ''
      child.stderr!.on('data', (chunk) => {
        stderr += chunk
      })
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.on('exit', (code, signal) => resolve(signal ?? code)),
      )
      try {
        const seen = await waitFor(
          'committed offsets in the state file (or the replay ending)',
          () => {
            const ended = child.exitCode !== null || child.signalCode !== null
            const spills = spillsOf(killedFile).length
            try {
              const offsets = existsSync(killedFile) ? [...committedOffsets(killedFile).values()] : []
              return { ended, offsets, spills, error: undefined }
            } catch (error) {
              return { ended, offsets: [], spills, error: String(error) }
            }
          },
          // Past its cache on one thread, the replay folds in rounds: killed in one.
          (s) => s.ended || (s.offsets.some((offset) => offset > 0) && (!inRounds || s.spills > 0)),
          { timeoutMs: 150_000, intervalMs: 20 },
        ).catch((error: Error) => {
          throw new Error(`${error.message}\nstderr of the replay: ${stderr}`)
        })
        assert.equal(seen.ended, false, `the replay ended before it was killed\n${stderr}`)
        child.kill('SIGKILL')
        assert.equal(await exited, 'SIGKILL', `the replay was still running when killed\n${stderr}`)
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      assert.equal(
        spillsOf(killedFile).length,
        inRounds ? 1 : 0,
        'a replay past its cache (1,000 states for 20,000 accounts) folds in rounds',
      )
      // What the killed run left: read again after the kill (the last commit may be newer).
      const committed = committedOffsets(killedFile)
      const folded = [...committed.values()].reduce((sum, offset) => sum + offset, 0)
      assert.ok(folded > 0 && folded < total, `killed mid-way: ${folded} of ${total} committed`)

      const resumed = await replay(topic, [
        '--reducer',
        reducer,
        '--state',
        killedFile,
        '--out',
        resumedOut,
        ...cacheArgs,
      ])
      assert.equal(resumed.resumed, true)
      assert.equal(resumed.complete, true)
      // Past its cache a replay folds in rounds (one thread), spilling records beside the state
      // file: what the killed run left there is removed by the next.
      assert.deepEqual(spillsOf(killedFile), [])
      assert.equal(resumed.events, total - folded, 'the resumed run folds exactly what the killed one had not')
      for (const p of resumed.partitions) {
        assert.equal(p.start, committed.get(`${p.topic}/${p.partition}`) ?? 0, `resumed ${p.topic}/${p.partition}`)
        assert.equal(p.reached, p.end)
      }

      const full = await replay(topic, [
        '--reducer',
        reducer,
        '--state',
        fullFile,
        '--from-beginning',
        '--out',
        fullOut,
        ...workerArgs,
      ])
      assert.equal(full.resumed, false)
      assert.equal(full.events, total)
      assert.equal(full.workers, Number(workers ?? 1))
      // The count kept in the file: the killed run's commits (one per thread) and the resumed run's.
      assert.equal(resumed.aggregates, full.aggregates)
      assert.deepEqual(
        resumed.partitions.map((p) => p.end),
        full.partitions.map((p) => p.end),
      )

      const resumedState = await readFile(resumedOut, 'utf8')
      const fullState = await readFile(fullOut, 'utf8')
      assert.equal(resumedState, fullState, 'resumed state identical to the uninterrupted one')
      assert.deepEqual(JSON.parse(fullState), expectedAccounts(events))
    })
  }

  it('Ctrl-C during a round exits 130 and leaves no spilled records behind', async () => {
    const reducer = await slowBankReducer()
    const file = join(dir, 'interrupted.db')
    const child = spawn(
      process.execPath,
      [
        esBin,
        'replay',
        '--brokers',
        brokers,
        '--topic',
        topic,
        '--reducer',
        reducer,
        '--state',
        file,
        '--cache',
        '1000',
      ],
      { env: { ...process.env, NO_COLOR: '1', SLOW_REDUCER: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    child.stderr!.resume()
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      await waitFor(
        'the spill directory of a round',
        () => ({ ended: child.exitCode !== null, spills: spillsOf(file).length }),
        (s) => s.ended || s.spills > 0,
        { timeoutMs: 60_000, intervalMs: 10 },
      )
      assert.equal(child.exitCode, null, 'the replay ended before a round began')
      child.kill('SIGINT')
      assert.equal(await exited, 130)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    assert.deepEqual(spillsOf(file), [])
  })
})

describe('es replay while a producer keeps writing', () => {
  it('stops at the end offsets fixed at start', async () => {
    const topic = uniqueTopic('es-replay-live')
    await createTopic(topic, 3)
    const producer = testKafka().producer()
    await producer.connect()
    let produced = 0
    let stop = false
    let failure: unknown
    const writing = (async () => {
      let n = 0
      while (!stop) {
        const messages = Array.from({ length: 200 }, () => {
          n++
          return { key: `live-${n % 50}`, value: JSON.stringify({ type: n % 2 ? 'Odd' : 'Even', n }) }
        })
        await producer.send({ topic, acks: -1, messages })
        produced += messages.length
      }
    })().catch((error) => {
      failure = error
    })
    try {
      await waitFor(
        'records before the replay',
        () => produced,
        (n) => n >= 5_000,
        { intervalMs: 20 },
      )
      const before = produced
      const out = join(dir, 'live-counts.json')
      const run = await runEs([
        'replay',
        '--brokers',
        brokers,
        '--topic',
        topic,
        '--reducer',
        'count',
        '--from-beginning',
        '--out',
        out,
        '--json',
      ])
      assert.equal(run.code, 0, run.stderr)
      const result = JSON.parse(run.stdout) as ReplayJson
      const after = produced
      // Keep writing after the replay, so the log is visibly longer than what it read.
      await waitFor(
        'records after the replay',
        () => produced,
        (n) => n >= after + 2_000,
        { intervalMs: 20 },
      )
      stop = true
      await writing
      assert.equal(failure, undefined)

      assert.equal(result.complete, true)
      const ends = result.partitions.reduce((sum, p) => sum + p.end, 0)
      assert.equal(result.events, ends, 'events folded == the end offsets reported')
      for (const p of result.partitions) assert.equal(p.reached, p.end)
      assert.ok(ends >= before, `ends (${ends}) include what was written before the start (${before})`)
      const counts = JSON.parse(await readFile(out, 'utf8')) as Record<string, Record<string, number>>
      const folded = Object.values(counts).reduce(
        (sum, perType) => sum + Object.values(perType).reduce((s, n) => s + n, 0),
        0,
      )
      assert.equal(folded, ends, 'the state holds exactly the events up to the ends')

      const log = await kcatConsume(brokers, topic)
      assert.ok(log.length >= produced, `${log.length} in the log, ${produced} acknowledged`)
      assert.ok(result.events < log.length, `${result.events} folded < ${log.length} in the log by the end`)
      const logEnds = partitionEnds(log)
      for (const p of result.partitions) assert.ok(p.end <= (logEnds.get(p.partition) ?? 0))
    } finally {
      stop = true
      await writing
      await producer.disconnect()
    }
  })
})
