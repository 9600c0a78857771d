/**
 * `es diff` end to end: the real binary, the real broker, the sample bank service (command handler
 * and projector as child processes) writing its `accounts` read model into SQLite, and a second
 * projector writing PostgreSQL. The read model is then changed behind the projector's back, and
 * `es diff` must name each change per aggregate and exit 1.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import {
  type RunningBank,
  sendCommand,
  startBank,
  startPostgresProjector,
  writeConfigCopy,
} from '../support/bank-service.js'
import { type EsRun, runEs } from '../support/cli.js'
import { waitFor } from '../support/poll.js'
import { tempDir } from '../support/temp-dir.js'

const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

interface DiffJson {
  projection: string
  readModel: string
  drift: boolean
  counts: {
    replayed: number
    readModel: number | null
    compared: number
    missing: number
    extra: number
    changed: number
    ahead: number
  }
  details: Array<{
    kind: string
    aggregateId: string
    fields?: Array<{ field: string; column: string | null; expected: unknown; actual: unknown }>
  }>
  replay: { events: number; resumed: boolean; complete: boolean }
}

function parseJson(run: EsRun): DiffJson {
  try {
    return JSON.parse(run.stdout) as DiffJson
  } catch {
    assert.fail(`es diff --json printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`)
  }
}

describe('es diff with the sample bank service (real binary, real broker, SQLite and PostgreSQL)', () => {
  let bank: RunningBank
  const accounts = ['a', 'b', 'c'].map((name) => `acc-${name}-${randomBytes(3).toString('hex')}`)
  const diff = (args: string[], config = bank.configFile) =>
    runEs(['diff', ...args, '--config', config], { env: cleanEnv, timeoutMs: 90_000 })
  const send = async (type: string, key: string, data: object) => {
    const run = await sendCommand(bank, type, key, data)
    assert.equal(run.code, 0, run.stderr)
  }
  const rows = () => {
    const db = new Database(join(bank.dir, 'bank-accounts.db'), { readonly: true })
    try {
      return db.prepare('SELECT * FROM accounts ORDER BY id').all() as Array<{
        id: string
        version: number
        balance: number
      }>
    } finally {
      db.close()
    }
  }
  const waitForVersions = (versions: Record<string, number>) =>
    waitFor(`read-model rows at versions ${JSON.stringify(versions)}`, rows, (found) =>
      Object.entries(versions).every(([id, v]) => found.some((r) => r.id === id && r.version === v)),
    )
  const tamper = (sql: string, ...params: unknown[]) => {
    const db = new Database(join(bank.dir, 'bank-accounts.db'))
    try {
      db.prepare(sql).run(...params)
    } finally {
      db.close()
    }
  }

  before(async () => {
    bank = await startBank('diff')
    await send('OpenAccount', accounts[0], { owner: 'Ann', amount: 100 })
    await send('OpenAccount', accounts[1], { owner: 'Bob' })
    await send('OpenAccount', accounts[2], { owner: 'Cy' })
    await send('DepositFunds', accounts[1], { amount: 12.5 })
    await send('WithdrawFunds', accounts[0], { amount: 30 })
    await waitForVersions({ [accounts[0]]: 3, [accounts[1]]: 2, [accounts[2]]: 1 })
  })

  after(async () => {
    const { handler, projector } = bank
    const codes = await bank.stop()
    assert.deepEqual(codes, { handler: 0, projector: 0 }, `${handler.stderr}\n${projector.stderr}`)
  })

  it('finds no drift between the replayed accounts and the projector’s SQLite rows: exit 0, nothing on stdout', async () => {
    const run = await diff(['accounts'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, '')
    assert.match(
      run.stderr,
      /^no drift: 0 missing in the read model, 0 extra, 0 changed; 3 of 3 replayed aggregates compared with sqlite \S+bank-accounts\.db table accounts$/m,
    )
    const json = parseJson(await diff(['--json']))
    assert.equal(json.drift, false)
    assert.equal(json.projection, 'accounts')
    assert.deepEqual(json.counts, {
      replayed: 3,
      readModel: 3,
      compared: 3,
      missing: 0,
      extra: 0,
      changed: 0,
      ahead: 0,
      undecodable: 0,
    })
    assert.equal(json.replay.events, 6)
  })

  it('--state FILE continues a stored replay to the current end, then compares', async () => {
    const state = join(await tempDir('es-diff-state-'), 'accounts.db')
    const replay = await runEs(
      ['replay', '--from-beginning', '--projection', 'accounts', '--state', state, '--config', bank.configFile],
      { env: cleanEnv },
    )
    assert.equal(replay.code, 0, replay.stderr)
    await send('DepositFunds', accounts[2], { amount: 7 })
    await waitForVersions({ [accounts[2]]: 2 })
    const json = parseJson(await diff(['accounts', '--state', state, '--json']))
    assert.equal(json.replay.resumed, true)
    assert.equal(json.replay.events, 1, 'only the new event is folded')
    assert.equal(json.drift, false, JSON.stringify(json.details))
  })

  it('names each changed field, missing and extra row per aggregate and exits 1; --ignore and --limit', async () => {
    tamper('UPDATE accounts SET balance = balance + 1, owner = ? WHERE id = ?', 'Mallory', accounts[0])
    tamper('DELETE FROM accounts WHERE id = ?', accounts[1])
    tamper("INSERT INTO accounts VALUES ('acc-ghost', 'Nobody', 5, 'open', 1, '2026-01-01T00:00:00.000Z')")
    const run = await diff(['accounts'])
    assert.equal(run.code, 1, run.stderr)
    const lines = run.stdout.split('\n')
    const line = (id: string, text: RegExp) =>
      assert.ok(
        lines.some((l) => l.includes(id) && text.test(l)),
        `a line for ${id} matching ${text}:\n${run.stdout}`,
      )
    line(accounts[0], /changed\s+│?\s*balance\s+│?\s*70\s+│?\s*71/)
    line(accounts[0], /changed\s+│?\s*owner\s+│?\s*Ann\s+│?\s*Mallory/)
    line(accounts[1], /missing/)
    line('acc-ghost', /extra/)
    assert.match(run.stderr, /drift in 3 aggregates: 1 missing in the read model, 1 extra, 1 changed/)

    const json = parseJson(await diff(['accounts', '--json']))
    assert.equal(json.drift, true)
    assert.deepEqual(
      json.details.map((d) => [d.aggregateId, d.kind]),
      [
        [accounts[0], 'changed'],
        [accounts[1], 'missing'],
        ['acc-ghost', 'extra'],
      ].sort((x, y) => (x[0] < y[0] ? -1 : 1)),
    )
    const changed = json.details.find((d) => d.kind === 'changed')
    assert.deepEqual(
      changed?.fields?.map((f) => [f.field, f.column, f.expected, f.actual]),
      [
        ['owner', 'owner', 'Ann', 'Mallory'],
        ['balance', 'balance', 70, 71],
      ],
    )

    const ignored = parseJson(await diff(['accounts', '--json', '--ignore', 'balance', '--ignore', 'owner']))
    assert.equal(ignored.counts.changed, 0)
    assert.equal(ignored.counts.missing, 1)
    const limited = await diff(['accounts', '--json', '--limit', '1'])
    assert.equal(limited.code, 1)
    assert.equal(parseJson(limited).details.length, 1)
    assert.equal(parseJson(limited).counts.extra, 1)
  })

  it('refuses a projection without a read model (exit 3) and an unknown projection (exit 3), in one line', async () => {
    const dir = await tempDir('es-diff-config-')
    const config = await writeConfigCopy(bank.configFile, dir, (doc) => {
      delete doc.services.bank.projections?.accounts?.readModel
    })
    const none = await diff(['accounts'], config)
    assert.equal(none.code, 3, none.stderr)
    assert.match(none.stderr.trim(), /^error: projection accounts of bank has no readModel \(add readModel/)
    assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr)
    const unknown = await diff(['acounts'])
    assert.equal(unknown.code, 3, unknown.stderr)
    assert.match(unknown.stderr, /unknown projection "acounts".*did you mean accounts/s)
  })

  it('compares with a PostgreSQL read model (NUMERIC balances, text timestamps) and finds a changed balance', async () => {
    const url = process.env.ES_TEST_PG_URL
    assert.ok(url, 'ES_TEST_PG_URL is set by test/run.ts')
    const { projector, schema, configFile: config } = await startPostgresProjector(bank, url, 'diff')
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await waitFor(
        `3 rows in ${schema}.accounts`,
        async () => (await client.query(`SELECT count(*)::int AS n FROM "${schema}".accounts`)).rows[0].n as number,
        (n) => n === 3,
      )
      const clean = await diff(['accounts', '--json'], config)
      assert.equal(clean.code, 0, clean.stderr)
      assert.equal(parseJson(clean).counts.compared, 3)
      await client.query(`UPDATE "${schema}".accounts SET balance = balance + 0.5 WHERE id = $1`, [accounts[2]])
      const drifted = await diff(['accounts', '--json'], config)
      assert.equal(drifted.code, 1, drifted.stderr)
      const json = parseJson(drifted)
      assert.deepEqual(
        json.details.map((d) => [d.aggregateId, d.fields?.map((f) => [f.field, f.expected, f.actual])]),
        [[accounts[2], [['balance', 7, '7.5']]]],
      )
      assert.equal(parseJson(await diff(['accounts', '--json', '--tolerance', '0.5'], config)).drift, false)
      assert.doesNotMatch(drifted.stderr + drifted.stdout, /:es@/, 'the password is not shown')
    } finally {
      await client.end()
      assert.equal(await projector.stop(), 0, projector.stderr)
    }
  })
})

describe('es diff against a read model that cannot be reached', () => {
  it('an unreachable HTTP read model is found before any replay work (exit 4 naming it)', async () => {
    const dir = await tempDir('es-diff-http-')
    const config = join(dir, 'es.config.json')
    // The events topic does not exist: a replay would fail with exit 6 before the read model was asked.
    await writeFile(
      config,
      JSON.stringify({
        brokers: process.env.ES_TEST_BROKERS,
        services: {
          calc: {
            streams: { events: `missing-${randomBytes(4).toString('hex')}` },
            projections: {
              values: { reducer: 'latest', readModel: { type: 'http', url: 'http://127.0.0.1:1/values/{id}' } },
            },
          },
        },
      }),
    )
    const run = await runEs(['diff', 'values', '--config', config], { env: cleanEnv })
    assert.equal(run.code, 4, run.stderr)
    assert.match(run.stderr, /^error: read model http:\/\/127\.0\.0\.1:1\/values\/\{id\} (is )?unreachable/m)
  })
})
