/**
 * Read models at scale, end to end (real binary, real broker, real PostgreSQL and SQLite):
 * - rebuild and diff stream states and rows, so their memory does not grow with aggregates;
 * - the ranges the rebuild plan shows are the ranges that run, whatever arrives meanwhile;
 * - a rebuild killed at any point leaves the live table exactly as it was, and the next succeeds.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { esBin, runEs, runEsMeasured, startEs } from '../support/cli.js'
import { createTopic, endOffsets, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { openedAccountId, produceOpenedAccounts } from '../support/loadgen.js'
import { waitFor } from '../support/poll.js'
import { tempDir } from '../support/temp-dir.js'
import { Terminal } from '../support/terminal.js'

const brokers = testBrokers()
const bankReducer = join(import.meta.dirname, '../../../examples/bank/reducer.js')
const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

function pgUrl(): string {
  const url = process.env.ES_TEST_PG_URL
  assert.ok(url, 'ES_TEST_PG_URL is set by test/run.ts')
  return url
}

/** A bank service config on `topic` whose `accounts` projection writes `readModel`. */
async function writeConfig(
  dir: string,
  topic: string,
  readModel: Record<string, string>,
  reducer = bankReducer,
): Promise<string> {
  const file = join(dir, `${topic}.config.json`)
  await writeFile(
    file,
    JSON.stringify({
      brokers,
      services: {
        bank: {
          streams: { commands: `${topic}.commands`, events: topic, snapshots: `${topic}.snapshots` },
          codec: { key: 'string', value: 'json' },
          envelope: {
            type: '$.type',
            id: '$.id',
            causationId: '$.causationId',
            aggregateId: 'key',
            version: '$.version',
            timestamp: '$.timestamp',
            payload: '$.data',
          },
          projections: { accounts: { reducer, readModel } },
        },
      },
    }),
  )
  return file
}

/** A group's committed offsets by partition. */
async function committedOffsets(group: string, topic: string): Promise<Record<number, number>> {
  const admin = testKafka().admin()
  await admin.connect()
  try {
    const [fetched] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    return Object.fromEntries(fetched.partitions.map((p) => [p.partition, Number(p.offset)]))
  } finally {
    await admin.disconnect()
  }
}

const ACCOUNTS_COLUMNS =
  'id TEXT PRIMARY KEY, owner TEXT, balance NUMERIC NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL'

describe('rebuild and diff in bounded memory (PostgreSQL)', () => {
  let dir: string
  const client = new pg.Client({ connectionString: pgUrl() })
  const sizes = [200_000, 1_000_000]
  const setups = new Map<number, { config: string; table: string; topic: string }>()

  before(async () => {
    dir = await tempDir('es-rm-scale-')
    await client.connect()
    for (const size of sizes) {
      const topic = uniqueTopic(`rm-scale-${size}`)
      await createTopic(topic, 4)
      await produceOpenedAccounts(brokers, topic, size)
      const table = `accounts_${size}_${randomBytes(3).toString('hex')}`
      await client.query(`CREATE TABLE ${table} (${ACCOUNTS_COLUMNS})`)
      setups.set(size, {
        config: await writeConfig(dir, topic, { type: 'postgres', url: pgUrl(), table }),
        table,
        topic,
      })
    }
  })
  after(async () => {
    for (const { table } of setups.values()) await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    await client.end()
  })

  it('peaks within 20 % at 1,000,000 aggregates of what it takes at 200,000, for rebuild and diff alike', async (t) => {
    const peaks: Record<string, number> = {}
    for (const size of sizes) {
      const { config, table } = setups.get(size)!
      // Parallel folds into temporary files must reach the ends like any replay: the handoff group
      // gets exactly the topic's end offsets.
      const group = `${table}-projector`
      const rebuild = await runEsMeasured(
        ['rebuild-projection', 'accounts', '--yes', '--json', '--config', config, '--handoff-group', group],
        { env: cleanEnv, timeoutMs: 300_000 },
      )
      assert.equal(rebuild.code, 0, rebuild.stderr)
      const rebuilt = JSON.parse(rebuild.stdout) as {
        rebuilt: boolean
        rows: number
        replay: { complete: boolean; workers: number; partitions: Array<{ partition: number; reached: number }> }
      }
      assert.equal(rebuilt.rebuilt, true)
      assert.equal(rebuilt.rows, size)
      assert.equal(rebuilt.replay.complete, true)
      assert.ok(rebuilt.replay.workers > 1, `folded in ${rebuilt.replay.workers} threads`)
      const ends = await endOffsets(setups.get(size)!.topic)
      assert.deepEqual(Object.fromEntries(rebuilt.replay.partitions.map((p) => [p.partition, p.reached])), ends)
      assert.deepEqual(await committedOffsets(group, setups.get(size)!.topic), ends)
      const count = await client.query(`SELECT count(*)::int AS n, min(id) AS first, max(id) AS last FROM ${table}`)
      assert.deepEqual(count.rows[0], { n: size, first: openedAccountId(0), last: openedAccountId(size - 1) })
      // One row changed behind the projection's back: the diff must find exactly it.
      await client.query(`UPDATE ${table} SET balance = 7 WHERE id = $1`, [openedAccountId(size / 2)])
      const diff = await runEsMeasured(['diff', 'accounts', '--json', '--config', config], {
        env: cleanEnv,
        timeoutMs: 300_000,
      })
      assert.equal(diff.code, 1, diff.stderr)
      const report = JSON.parse(diff.stdout) as {
        counts: { replayed: number; readModel: number; compared: number; changed: number }
        details: Array<{ aggregateId: string }>
        replay: { complete: boolean }
      }
      assert.equal(report.replay.complete, true)
      assert.deepEqual(
        { ...report.counts, ids: report.details.map((d) => d.aggregateId) },
        {
          ...report.counts,
          replayed: size,
          readModel: size,
          compared: size,
          changed: 1,
          ids: [openedAccountId(size / 2)],
        },
      )
      peaks[`rebuild ${size}`] = rebuild.peakRssMb
      peaks[`diff ${size}`] = diff.peakRssMb
    }
    const summary = Object.entries(peaks)
      .map(([name, mb]) => `${name}: ${mb.toFixed(0)} MB`)
      .join(', ')
    t.diagnostic(summary)
    assert.ok(peaks['rebuild 1000000'] <= peaks['rebuild 200000'] * 1.2, summary)
    assert.ok(peaks['diff 1000000'] <= peaks['diff 200000'] * 1.2, summary)
  })
})

describe('rebuild-projection: the plan you confirm is the plan that runs (SQLite, a real terminal)', () => {
  let dir: string
  let config: string
  let file: string
  const topic = uniqueTopic('rm-plan')

  before(async () => {
    dir = await tempDir('es-rm-plan-')
    await createTopic(topic, 3)
    await produceOpenedAccounts(brokers, topic, 1000)
    file = join(dir, 'accounts.db')
    const db = new Database(file)
    db.exec(`CREATE TABLE accounts (${ACCOUNTS_COLUMNS})`)
    db.close()
    config = await writeConfig(dir, topic, { type: 'sqlite', file, table: 'accounts' })
  })

  it('events written while the confirmation waits are not rebuilt', async () => {
    const terminal = await Terminal.start(
      [process.execPath, esBin, 'rebuild-projection', 'accounts', '--config', config],
      {
        env: cleanEnv,
      },
    )
    try {
      await terminal.waitForScreen(/replay\s+1,000 events/)
      await terminal.waitForScreen(/Replace the read model\?/)
      // 500 more accounts opened while the operator reads the plan.
      await produceOpenedAccounts(brokers, topic, 500, 1000)
      await terminal.type('y')
      await terminal.press('Enter')
      const { code, screen } = await terminal.exited(120_000)
      assert.equal(code, 0, screen)
      assert.match(screen, /rebuilt .*: 1,000 rows from 1,000 events/)
    } finally {
      await terminal.close()
    }
    const db = new Database(file, { readonly: true })
    try {
      const { n, last } = db.prepare('SELECT count(*) AS n, max(id) AS last FROM accounts').get() as {
        n: number
        last: string
      }
      assert.deepEqual({ n, last }, { n: 1000, last: openedAccountId(999) })
    } finally {
      db.close()
    }
  })
})

describe('rebuild-projection: the same rows whether the states fit in memory or went to their files (SQLite)', () => {
  it('a state holding a Date reaches toReadModel as its file would give it, with or without --cache 1', async () => {
    const dir = await tempDir('es-rm-held-')
    const topic = uniqueTopic('rm-held')
    await createTopic(topic, 2)
    await produceOpenedAccounts(brokers, topic, 50)
    // The state keeps a Date; the row says what toReadModel was given.
    const reducer = join(dir, 'dated.js')
    await writeFile(
      reducer,
      `export function initialState(id) { return { id, at: null } }
export function evolve(state, event) { return { ...state, at: new Date(event.timestamp) } }
export function toReadModel(state) { return { id: state.id, kind: state.at instanceof Date ? 'Date' : typeof state.at } }
`,
    )
    const file = join(dir, 'kinds.db')
    const db = new Database(file)
    db.exec('CREATE TABLE kinds (id TEXT PRIMARY KEY, kind TEXT NOT NULL)')
    db.close()
    const config = await writeConfig(dir, topic, { type: 'sqlite', file, table: 'kinds' }, reducer)
    const kinds = async (extra: string[]) => {
      const run = await runEs(['rebuild-projection', 'accounts', '--yes', '--config', config, ...extra], {
        env: cleanEnv,
        timeoutMs: 90_000,
      })
      assert.equal(run.code, 0, run.stderr)
      const read = new Database(file, { readonly: true })
      try {
        return read.prepare('SELECT kind, count(*) AS n FROM kinds GROUP BY kind').all()
      } finally {
        read.close()
      }
    }
    const inMemory = await kinds([])
    const onFile = await kinds(['--cache', '1'])
    assert.deepEqual(inMemory, onFile)
    assert.deepEqual(onFile, [{ kind: 'string', n: 50 }])
  })
})

describe('rebuild-projection killed with SIGKILL (SQLite)', () => {
  let dir: string
  let config: string
  let file: string
  const topic = uniqueTopic('rm-kill')
  const accounts = 60_000

  before(async () => {
    dir = await tempDir('es-rm-kill-')
    await createTopic(topic, 4)
    await produceOpenedAccounts(brokers, topic, accounts)
    file = join(dir, 'accounts.db')
    const db = new Database(file)
    db.exec(`CREATE TABLE accounts (${ACCOUNTS_COLUMNS}); CREATE INDEX accounts_owner ON accounts (owner);`)
    db.prepare("INSERT INTO accounts VALUES ('acc-live', 'Live', 1, 'open', 1, '2026-01-01T00:00:00.000Z')").run()
    db.close()
    config = await writeConfig(dir, topic, { type: 'sqlite', file, table: 'accounts' })
  })

  const liveRows = () => {
    const db = new Database(file, { readonly: true })
    try {
      return db.prepare('SELECT * FROM accounts ORDER BY id').all()
    } finally {
      db.close()
    }
  }

  it('leaves the live table exactly as it was wherever it is killed, and the next rebuild succeeds', async () => {
    const before = liveRows()
    // Killed early (while replaying) and late (while the shadow fills): the shadow's row count tells.
    for (const killAt of ['replay', 'shadow'] as const) {
      const es = startEs(['rebuild-projection', 'accounts', '--yes', '--config', config], { env: cleanEnv })
      try {
        await waitFor(
          `the rebuild to reach the ${killAt}`,
          () => {
            if (killAt === 'replay') return /\S/.test(es.stderr()) || es.child.exitCode !== null
            const db = new Database(file, { readonly: true })
            try {
              const shadow = db.prepare("SELECT name FROM sqlite_master WHERE name = 'accounts__es_rebuild'").get() as
                | { name: string }
                | undefined
              return shadow !== undefined || es.child.exitCode !== null
            } finally {
              db.close()
            }
          },
          (reached) => reached,
          { timeoutMs: 120_000, intervalMs: 5 },
        )
        assert.equal(es.child.exitCode, null, `the rebuild ended before it was killed: ${es.stderr()}`)
        es.child.kill('SIGKILL')
        await es.exited
      } finally {
        if (es.child.exitCode === null) es.child.kill('SIGKILL')
      }
      assert.deepEqual(liveRows(), before, `killed during the ${killAt}: the live table is unchanged`)
    }
    const run = await runEs(['rebuild-projection', 'accounts', '--yes', '--json', '--config', config], {
      env: cleanEnv,
      timeoutMs: 120_000,
    })
    assert.equal(run.code, 0, run.stderr)
    assert.equal((JSON.parse(run.stdout) as { rows: number }).rows, accounts)
    assert.equal(liveRows().length, accounts)
  })
})
