/**
 * `es rebuild-projection` end to end: the real binary, the real broker, the sample bank service
 * (command handler + projector) writing its `accounts` read model into SQLite, and a second
 * projector writing PostgreSQL. Rows are damaged behind the projector's back; the rebuild must
 * bring back exactly what the projector had written, leave nothing changed when it does not run,
 * and hand the events' end offsets over to a consumer group only when that group is empty.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import pg from 'pg'
import {
  type RunningBank,
  sendCommand,
  startBank,
  startPostgresProjector,
  writeConfigCopy,
} from '../support/bank-service.js'
import { runEs } from '../support/cli.js'
import { endOffsets, testKafka, uniqueTopic } from '../support/kafka.js'
import { waitFor } from '../support/poll.js'
import { tempDir } from '../support/temp-dir.js'

const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

interface AccountRow {
  id: string
  owner: string | null
  balance: number
  status: string
  version: number
  updated_at: string
}

describe('es rebuild-projection with the sample bank service (real binary, real broker, SQLite and PostgreSQL)', () => {
  let bank: RunningBank
  const accounts = ['a', 'b', 'c'].map((name) => `acc-${name}-${randomBytes(3).toString('hex')}`)
  let written: AccountRow[] = []
  const es = (args: string[], config = bank.configFile) =>
    runEs([...args, '--config', config], { env: cleanEnv, timeoutMs: 90_000 })
  const send = async (type: string, key: string, data: object) => {
    const run = await sendCommand(bank, type, key, data)
    assert.equal(run.code, 0, run.stderr)
  }
  const dbFile = () => join(bank.dir, 'bank-accounts.db')
  const sql = <T>(work: (db: Database.Database) => T): T => {
    const db = new Database(dbFile())
    try {
      return work(db)
    } finally {
      db.close()
    }
  }
  const rows = () => sql((db) => db.prepare('SELECT * FROM accounts ORDER BY id').all() as AccountRow[])
  const tables = () =>
    sql((db) =>
      (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>
      ).map((t) => t.name),
    )
  const damage = () =>
    sql((db) => {
      db.prepare('UPDATE accounts SET balance = balance + 1, owner = ? WHERE id = ?').run('Mallory', accounts[0])
      db.prepare('DELETE FROM accounts WHERE id = ?').run(accounts[1])
      db.prepare(
        "INSERT OR REPLACE INTO accounts VALUES ('acc-ghost', 'Nobody', 5, 'open', 1, '2026-01-01T00:00:00.000Z')",
      ).run()
    })

  before(async () => {
    bank = await startBank('rebuild')
    await send('OpenAccount', accounts[0], { owner: 'Ann', amount: 100 })
    await send('OpenAccount', accounts[1], { owner: 'Bob' })
    await send('OpenAccount', accounts[2], { owner: 'Cy' })
    await send('DepositFunds', accounts[1], { amount: 12.5 })
    await send('WithdrawFunds', accounts[0], { amount: 30 })
    // A rejected command for an account that does not exist: no row, and no rebuilt row either.
    const rejected = await es([
      'send-command',
      'DepositFunds',
      '--key',
      'acc-nobody',
      '--data',
      '{"amount":1}',
      '--wait',
      '--timeout',
      '30s',
    ])
    assert.equal(rejected.code, 1, rejected.stderr)
    written = await waitFor(
      'the projector’s rows',
      rows,
      (found) =>
        found.length === 3 &&
        found.every((r) => r.version === { [accounts[0]]: 3, [accounts[1]]: 2, [accounts[2]]: 1 }[r.id]),
    )
  })

  after(async () => {
    const { handler, projector } = bank
    const codes = await bank.stop()
    assert.deepEqual(codes, { handler: 0, projector: 0 }, `${handler.stderr}\n${projector.stderr}`)
  })

  it('--dry-run prints the plan on stdout and changes nothing', async () => {
    const run = await es(['rebuild-projection', 'accounts', '--dry-run'])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^rebuild projection accounts$/m)
    assert.match(run.stdout, /replay\s+7 events: /)
    assert.match(run.stdout, /time span\s+\d{4}-\d\d-\d\dT\S+Z → \d{4}-\d\d-\d\dT\S+Z/)
    assert.match(
      run.stdout,
      /target\s+sqlite \S+bank-accounts\.db table accounts, built as accounts__es_rebuild and swapped in/,
    )
    assert.match(run.stderr, /dry run: nothing was changed/)
    assert.deepEqual(rows(), written)
    assert.ok(!tables().includes('accounts__es_rebuild'))
  })

  it('refuses to run without --yes when there is no terminal to ask (exit 2), changing nothing', async () => {
    const run = await es(['rebuild-projection', 'accounts'])
    assert.equal(run.code, 2, run.stderr)
    assert.match(run.stderr.trim(), /^error: rebuild-projection replaces a read model: confirm with --yes/)
    assert.equal(run.stderr.trim().split('\n').length, 1)
    const json = await es(['rebuild-projection', 'accounts', '--json'])
    assert.equal(json.code, 2, json.stderr)
    assert.equal(JSON.parse(json.stdout).error.code, 'CONFIRMATION_NEEDED')
    assert.deepEqual(rows(), written)
  })

  it('brings back exactly the rows the projector wrote after they were damaged; es diff agrees; the projector goes on', async () => {
    damage()
    assert.equal((await es(['diff', 'accounts'])).code, 1)
    const run = await es(['rebuild-projection', 'accounts', '--yes', '--json'])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout)
    assert.equal(result.rebuilt, true)
    assert.equal(result.rows, 3)
    assert.equal(result.kept, undefined)
    assert.deepEqual(rows(), written, 'the same rows, updated_at text included')
    assert.deepEqual(
      tables().filter((t) => t.startsWith('accounts')),
      ['accounts'],
    )
    assert.equal((await es(['diff', 'accounts'])).code, 0)
    await send('DepositFunds', accounts[2], { amount: 7 })
    await waitFor('the projector to write into the rebuilt table', rows, (found) =>
      found.some((r) => r.id === accounts[2] && r.balance === 7),
    )
    written = rows()
  })

  it('--keep-old keeps the damaged table under a new name', async () => {
    damage()
    const run = await es(['rebuild-projection', 'accounts', '--yes', '--keep-old', '--json'])
    assert.equal(run.code, 0, run.stderr)
    const { kept } = JSON.parse(run.stdout)
    assert.match(kept, /^accounts__es_old_\d{8}T\d{9}Z$/)
    assert.deepEqual(rows(), written)
    const old = sql(
      (db) => db.prepare(`SELECT id, owner FROM "${kept}" ORDER BY id`).all() as Array<{ id: string; owner: string }>,
    )
    assert.ok(old.some((r) => r.id === 'acc-ghost'))
    assert.ok(old.some((r) => r.id === accounts[0] && r.owner === 'Mallory'))
  })

  it('--rollback puts the table kept by --keep-old back (the replaced one is kept in turn); without one, exit 6', async () => {
    // The previous test kept the damaged table: rolling back brings the damage back, rolling back again undoes that.
    const dry = await es(['rebuild-projection', 'accounts', '--rollback', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /^roll back projection accounts\n.*\n\s+put back\s+accounts__es_old_\S+/m)
    assert.deepEqual(rows(), written, 'a dry run changes nothing')
    const back = await es(['rebuild-projection', 'accounts', '--rollback', '--yes', '--json'])
    assert.equal(back.code, 0, back.stderr)
    assert.ok(
      rows().some((r) => r.id === 'acc-ghost'),
      'the kept (damaged) table is live again',
    )
    const again = await es(['rebuild-projection', 'accounts', '--rollback', '--yes'])
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(rows(), written)
    for (const table of tables().filter((t) => t.startsWith('accounts__es_old_')))
      sql((db) => db.exec(`DROP TABLE "${table}"`))
    const none = await es(['rebuild-projection', 'accounts', '--rollback', '--yes'])
    assert.equal(none.code, 6, none.stderr)
    assert.match(none.stderr, /nothing to roll back to/)
  })

  it('--handoff-group: refused while the group has a member (exit 1, nothing changed); an empty group gets the end offsets', async () => {
    const group = uniqueTopic('rebuild-handoff')
    const consumer = testKafka().consumer({ groupId: group })
    await consumer.connect()
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()))
    await consumer.subscribe({ topic: bank.topics.events, fromBeginning: true })
    await consumer.run({ eachMessage: async () => {} })
    await joined
    damage()
    try {
      const refused = await es(['rebuild-projection', 'accounts', '--yes', '--handoff-group', group])
      assert.equal(refused.code, 1, refused.stderr)
      assert.match(refused.stderr, new RegExp(`refused: consumer group ${group} has 1 active member`))
      assert.notDeepEqual(rows(), written, 'the damaged table is still there: nothing was changed')
    } finally {
      await consumer.disconnect()
    }
    const fresh = uniqueTopic('rebuild-handoff-fresh')
    const run = await es(['rebuild-projection', 'accounts', '--yes', '--handoff-group', fresh, '--json'])
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(rows(), written)
    const ends = await endOffsets(bank.topics.events)
    const admin = testKafka().admin()
    await admin.connect()
    try {
      const [committed] = await admin.fetchOffsets({ groupId: fresh, topics: [bank.topics.events] })
      assert.deepEqual(
        Object.fromEntries(committed.partitions.map((p) => [p.partition, Number(p.offset)])),
        ends,
        'the group continues after the last event the rebuilt table holds',
      )
    } finally {
      await admin.disconnect()
    }
  })

  it('a reducer that throws fails the rebuild with exit 5 naming the event, and leaves the table as it was', async () => {
    const dir = await tempDir('es-rebuild-throw-')
    const reducer = join(dir, 'throwing-reducer.js')
    await writeFile(
      reducer,
      "export const initialState = (id) => ({ id })\nexport function evolve(state, event) {\n  if (event.type === 'FundsWithdrawn') throw new Error('no withdrawals here')\n  return { ...state, version: event.version }\n}\n",
    )
    const config = await writeConfigCopy(bank.configFile, dir, (doc) => {
      const projection = doc.services.bank.projections?.accounts
      assert.ok(projection)
      projection.reducer = reducer
    })
    damage()
    const before = rows()
    const run = await es(['rebuild-projection', 'accounts', '--yes'], config)
    assert.equal(run.code, 5, run.stderr)
    assert.match(
      run.stderr.trim().split('\n').pop() ?? '',
      /^error: reducer \S+throwing-reducer\.js threw on FundsWithdrawn at \S+\/\d+@\d+: no withdrawals here/,
    )
    assert.deepEqual(rows(), before, 'the live table is untouched')
    assert.ok(!tables().includes('accounts__es_rebuild'), 'no shadow left behind')
    // Repaired by a rebuild with the real reducer.
    assert.equal((await es(['rebuild-projection', 'accounts', '--yes'])).code, 0)
    assert.deepEqual(rows(), written)
  })

  it('refuses read models es does not own (a topic, an HTTP API): exit 3', async () => {
    const dir = await tempDir('es-rebuild-config-')
    const config = await writeConfigCopy(bank.configFile, dir, (doc) => {
      const projection = doc.services.bank.projections?.accounts
      assert.ok(projection)
      projection.readModel = { type: 'topic', topic: bank.topics.snapshots }
    })
    const run = await es(['rebuild-projection', 'accounts', '--yes'], config)
    assert.equal(run.code, 3, run.stderr)
    assert.match(run.stderr, /a topic read model cannot be rebuilt by es/)
  })

  it('rebuilds a PostgreSQL read model the same way', async () => {
    const url = process.env.ES_TEST_PG_URL
    assert.ok(url, 'ES_TEST_PG_URL is set by test/run.ts')
    const { projector, schema, configFile: config } = await startPostgresProjector(bank, url, 'rebuild')
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const pgRows = async () =>
      (
        await client.query(
          `SELECT id, owner, balance::float8 AS balance, status, version, updated_at FROM "${schema}".accounts ORDER BY id`,
        )
      ).rows
    try {
      const projected = await waitFor(`3 rows in ${schema}.accounts`, pgRows, (found) => found.length === 3)
      assert.deepEqual(projected, written)
      await client.query(`UPDATE "${schema}".accounts SET balance = 0, updated_at = 'x' WHERE id = $1`, [accounts[0]])
      await client.query(`DELETE FROM "${schema}".accounts WHERE id = $1`, [accounts[2]])
      const run = await es(['rebuild-projection', 'accounts', '--yes', '--keep-old', '--json'], config)
      assert.equal(run.code, 0, run.stderr)
      assert.deepEqual(await pgRows(), written)
      const { kept } = JSON.parse(run.stdout)
      assert.match(kept, new RegExp(`^${schema}\\.accounts__es_old_`))
      assert.equal((await es(['diff', 'accounts'], config)).code, 0)
      assert.doesNotMatch(run.stdout + run.stderr, /:es@/, 'the password is not shown')

      // A row the table refuses (status NOT NULL): the COPY fails while es goes on making rows
      // (one write in flight); the rebuild still fails with exit 5, the shadow is dropped, and
      // the live table is as it was.
      const dir = await tempDir('es-rebuild-refused-')
      const reducer = join(dir, 'null-status-reducer.js')
      const bankReducer = fileURLToPath(new URL('../../../examples/bank/reducer.js', import.meta.url))
      await writeFile(
        reducer,
        [
          `import * as bank from ${JSON.stringify(bankReducer)}`,
          'export const { initialState, toReadModel } = bank',
          'export function evolve(state, event) {',
          '  const next = bank.evolve(state, event)',
          `  return next && next.id === ${JSON.stringify(accounts[1])} ? { ...next, status: null } : next`,
          '}',
          '',
        ].join('\n'),
      )
      const refusing = await writeConfigCopy(config, dir, (doc) => {
        const projection = doc.services.bank.projections?.accounts
        assert.ok(projection)
        projection.reducer = reducer
      })
      const refused = await es(['rebuild-projection', 'accounts', '--yes'], refusing)
      assert.equal(refused.code, 5, refused.stderr)
      assert.match(refused.stderr.trim().split('\n').pop() ?? '', /^error: cannot write rows into .*status/)
      assert.deepEqual(await pgRows(), written, 'the live table is untouched')
      const shadows = await client.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE '%es_rebuild%'",
        [schema],
      )
      assert.deepEqual(shadows.rows, [], 'no shadow left behind')
    } finally {
      await client.end()
      assert.equal(await projector.stop(), 0, projector.stderr)
    }
  })
})
