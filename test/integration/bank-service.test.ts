/**
 * The sample bank service (examples/bank) on the real broker: the command handler and projector run
 * as child processes, commands are produced and events read back with kcat, the read model is a real
 * SQLite file and a real PostgreSQL.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import pg from 'pg'
import { testBrokers, uniqueTopic } from '../support/kafka.js'
import { kcatConsume, kcatProduce } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'
import { ServiceProcess } from '../support/service-process.js'

const bankDir = join(dirname(fileURLToPath(import.meta.url)), '../../examples/bank')
const handlerScript = join(bankDir, 'command-handler.js')
const projectorScript = join(bankDir, 'projector.js')

interface Event {
  id: string
  type: string
  causationId: string
  aggregateId: string
  version: number
  timestamp: string
  data: Record<string, unknown>
  partition: number
  offset: number
  key: string | null
}

interface Row {
  id: string
  owner: string | null
  balance: number
  status: string
  version: number
  updated_at: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function command(id: string, type: string, data: Record<string, unknown>, expectedVersion?: number): string {
  return JSON.stringify({
    id,
    type,
    timestamp: new Date().toISOString(),
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
    data,
  })
}

function newAccount(): string {
  return `acc-${randomBytes(4).toString('hex')}`
}

describe('bank sample service on the real broker (commands and events through kcat)', () => {
  const brokers = testBrokers()
  const topics = {
    commands: uniqueTopic('bank-commands'),
    events: uniqueTopic('bank-events'),
    snapshots: uniqueTopic('bank-snapshots'),
  }
  const handlerGroup = uniqueTopic('bank-handler')
  const projectorGroup = uniqueTopic('bank-projector')
  let dir: string
  let dbFile: string
  let handler: ServiceProcess
  let projector: ServiceProcess
  const others: ServiceProcess[] = []

  const handlerArgs = () => [
    '--brokers',
    brokers,
    '--commands-topic',
    topics.commands,
    '--events-topic',
    topics.events,
    '--group',
    handlerGroup,
    '--partitions',
    '3',
  ]
  const projectorArgs = (readModel: string, extra: string[] = []) => [
    '--brokers',
    brokers,
    '--events-topic',
    topics.events,
    '--snapshots-topic',
    topics.snapshots,
    '--group',
    projectorGroup,
    '--partitions',
    '3',
    '--read-model',
    readModel,
    ...extra,
  ]
  const startHandler = () =>
    ServiceProcess.start('command-handler', handlerScript, handlerArgs(), { ready: /started:/ })
  const startProjector = (readModel: string, extra: string[] = []) =>
    ServiceProcess.start('projector', projectorScript, projectorArgs(readModel, extra), { ready: /started:/ })

  async function eventsOf(account: string): Promise<Event[]> {
    return (await kcatConsume(brokers, topics.events))
      .filter((record) => record.key === account)
      .map((record) => ({
        ...(JSON.parse(record.payload ?? 'null') as Event),
        partition: record.partition,
        offset: record.offset,
        key: record.key,
      }))
      .sort((a, b) => a.offset - b.offset)
  }

  function sqliteRows(file: string): Row[] {
    const db = new Database(file, { readonly: true, fileMustExist: true })
    try {
      return db
        .prepare('SELECT id, owner, balance, status, version, updated_at FROM accounts ORDER BY id')
        .all() as Row[]
    } finally {
      db.close()
    }
  }

  const rowOf = async (account: string, version: number): Promise<Row> =>
    (await waitFor(
      `the accounts row of ${account} at version ${version}`,
      () => sqliteRows(dbFile).find((row) => row.id === account),
      (row) => row?.version === version,
    )) as Row

  async function latestSnapshots(topic = topics.snapshots): Promise<Map<string, Record<string, unknown>>> {
    const latest = new Map<string, Record<string, unknown>>()
    for (const record of (await kcatConsume(brokers, topic)).sort((a, b) => a.offset - b.offset)) {
      if (record.key !== null) latest.set(record.key, JSON.parse(record.payload ?? 'null'))
    }
    return latest
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-bank-test-'))
    dbFile = join(dir, 'accounts.db')
    const started = await Promise.allSettled([startHandler(), startProjector(`sqlite:${dbFile}`)])
    const failure = started.find((s) => s.status === 'rejected')
    if (failure) {
      // Leave no child behind: it would keep this test file running until its timeout.
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)))
      throw failure.reason
    }
    ;[handler, projector] = started.map((s) => (s as PromiseFulfilledResult<ServiceProcess>).value)
  })

  after(async () => {
    const services = [handler, projector, ...others].filter((s) => s?.running)
    const codes = await Promise.all(services.map((s) => s.stop()))
    await rm(dir, { recursive: true, force: true })
    services.forEach((service, i) => {
      assert.equal(codes[i], 0, `${service.name} exit code after SIGTERM\n${service.stderr}`)
      assert.match(service.stderr, /stopped on SIGTERM/)
    })
  })

  it('three commands produced by kcat yield the events, the read-model row and the snapshot', async () => {
    const account = newAccount()
    const ids: string[] = [randomUUID(), randomUUID(), randomUUID()]
    await kcatProduce(brokers, topics.commands, [
      [account, command(ids[0], 'OpenAccount', { owner: 'Alice' })],
      [account, command(ids[1], 'DepositFunds', { amount: 100 })],
      [account, command(ids[2], 'WithdrawFunds', { amount: 30 }, 2)],
    ])

    const events = await waitFor(
      `3 events of ${account}`,
      () => eventsOf(account),
      (e) => e.length >= 3,
    )
    assert.deepEqual(
      events.map((e) => [e.type, e.version, e.causationId, e.aggregateId, e.data]),
      [
        ['AccountOpened', 1, ids[0], account, { accountId: account, owner: 'Alice' }],
        ['FundsDeposited', 2, ids[1], account, { amount: 100 }],
        ['FundsWithdrawn', 3, ids[2], account, { amount: 30 }],
      ],
    )
    for (const event of events) {
      assert.match(event.id, UUID)
      assert.ok(!ids.includes(event.id), 'events get ids of their own')
      assert.ok(!Number.isNaN(Date.parse(event.timestamp)), `timestamp ${event.timestamp}`)
      assert.equal(event.partition, events[0].partition, 'one account, one partition')
    }
    assert.equal(new Set(events.map((e) => e.id)).size, 3)

    const row = await rowOf(account, 3)
    assert.deepEqual(row, {
      id: account,
      owner: 'Alice',
      balance: 70,
      status: 'open',
      version: 3,
      updated_at: events[2].timestamp,
    })

    const snapshot = await waitFor(
      `the snapshot of ${account} at version 3`,
      async () => (await latestSnapshots()).get(account),
      (s) => s?.version === 3,
    )
    assert.deepEqual(snapshot, { id: account, owner: 'Alice', balance: 70, status: 'open', version: 3 })
  })

  it('a command with a stale expectedVersion yields CommandRejected and changes nothing', async () => {
    const account = newAccount()
    const [open, deposit, stale, fresh] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    await kcatProduce(brokers, topics.commands, [
      [account, command(open, 'OpenAccount', { owner: 'Bob' })],
      [account, command(deposit, 'DepositFunds', { amount: 50 })],
      [account, command(stale, 'WithdrawFunds', { amount: 10 }, 1)],
      [account, command(fresh, 'DepositFunds', { amount: 5 }, 2)],
    ])
    const events = await waitFor(
      `the outcome of ${fresh}`,
      () => eventsOf(account),
      (e) => e.some((event) => event.causationId === fresh),
    )
    assert.deepEqual(
      events.map((e) => [e.type, e.version, e.causationId]),
      [
        ['AccountOpened', 1, open],
        ['FundsDeposited', 2, deposit],
        ['CommandRejected', 2, stale],
        ['FundsDeposited', 3, fresh],
      ],
    )
    assert.deepEqual(events[2].data, {
      commandType: 'WithdrawFunds',
      reason: `expected version 1 but account ${account} is at version 2`,
      expectedVersion: 1,
      actualVersion: 2,
    })
    const row = await rowOf(account, 3)
    assert.equal(row.balance, 55)
  })

  it('enforces the rules: no overdraft, nothing after closing; a closed account keeps its row', async () => {
    const account = newAccount()
    const ids = Array.from({ length: 4 }, () => randomUUID())
    await kcatProduce(brokers, topics.commands, [
      [account, command(ids[0], 'OpenAccount', { owner: 'Dana', amount: 20 })],
      [account, command(ids[1], 'WithdrawFunds', { amount: 25 })],
      [account, command(ids[2], 'CloseAccount', {})],
      [account, command(ids[3], 'DepositFunds', { amount: 1 })],
    ])
    const events = await waitFor(
      `the outcome of ${ids[3]}`,
      () => eventsOf(account),
      (e) => e.some((event) => event.causationId === ids[3]),
    )
    assert.deepEqual(
      events.map((e) => [e.type, e.version, e.causationId]),
      [
        ['AccountOpened', 1, ids[0]],
        ['FundsDeposited', 2, ids[0]],
        ['CommandRejected', 2, ids[1]],
        ['AccountClosed', 3, ids[2]],
        ['CommandRejected', 3, ids[3]],
      ],
    )
    assert.match(String(events[2].data.reason), /insufficient funds/)
    assert.match(String(events[4].data.reason), /is closed/)
    const row = await rowOf(account, 3)
    assert.deepEqual([row.status, row.balance], ['closed', 20])
    const snapshot = await waitFor(
      `the closed snapshot of ${account}`,
      async () => (await latestSnapshots()).get(account),
      (s) => s?.version === 3,
    )
    assert.equal(snapshot?.status, 'closed')
  })

  it('skips a record it cannot read and goes on', async () => {
    const account = newAccount()
    const after = randomUUID()
    await kcatProduce(brokers, topics.commands, [
      [account, '{this is not json'],
      [account, command(after, 'OpenAccount', { owner: 'Eve' })],
    ])
    await waitFor(
      `the outcome of ${after}`,
      () => eventsOf(account),
      (e) => e.some((event) => event.causationId === after),
    )
    assert.match(handler.stderr, new RegExp(`warning: skipping ${topics.commands}/\\d+@\\d+: the value is not JSON`))
  })

  it('applies a retried command id once, also after the command handler restarts', async () => {
    const account = newAccount()
    const [open, retried, marker, marker2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    await kcatProduce(brokers, topics.commands, [
      [account, command(open, 'OpenAccount', { owner: 'Finn' })],
      [account, command(retried, 'DepositFunds', { amount: 10 })],
      [account, command(retried, 'DepositFunds', { amount: 10 })],
      [account, command(marker, 'DepositFunds', { amount: 1 })],
    ])
    let events = await waitFor(
      `the outcome of ${marker}`,
      () => eventsOf(account),
      (e) => e.some((event) => event.causationId === marker),
    )
    assert.deepEqual(
      events.map((e) => [e.type, e.version, e.causationId]),
      [
        ['AccountOpened', 1, open],
        ['FundsDeposited', 2, retried],
        ['FundsDeposited', 3, marker],
      ],
    )

    // A restarted handler knows the handled ids and the versions from bank.events alone.
    assert.equal(await handler.stop(), 0, handler.stderr)
    others.push(handler)
    handler = await startHandler()
    assert.match(handler.stderr, /state rebuilt from [1-9]\d* events/)
    await kcatProduce(brokers, topics.commands, [
      [account, command(retried, 'DepositFunds', { amount: 10 })],
      [account, command(marker2, 'DepositFunds', { amount: 2 }, 3)],
    ])
    events = await waitFor(
      `the outcome of ${marker2}`,
      () => eventsOf(account),
      (e) => e.some((event) => event.causationId === marker2),
    )
    assert.deepEqual(
      events.map((e) => [e.type, e.version, e.causationId]),
      [
        ['AccountOpened', 1, open],
        ['FundsDeposited', 2, retried],
        ['FundsDeposited', 3, marker],
        ['FundsDeposited', 4, marker2],
      ],
    )
    const row = await rowOf(account, 4)
    assert.equal(row.balance, 13)
  })

  it('the projector resumes from the offsets in its read model, so a new read model is rebuilt in full', async () => {
    const before = await waitFor(
      'the read model to be caught up',
      () => sqliteRows(dbFile),
      (rows) => rows.length >= 5,
    )
    // Restarting on the same file resumes where it stopped; nothing is applied twice.
    assert.equal(await projector.stop(), 0, projector.stderr)
    others.push(projector)
    const account = newAccount()
    const id = randomUUID()
    await kcatProduce(brokers, topics.commands, [[account, command(id, 'OpenAccount', { owner: 'Gus', amount: 7 })]])
    projector = await startProjector(`sqlite:${dbFile}`)
    assert.match(projector.stderr, /resuming at \d+@\d+/)
    await rowOf(account, 2)
    const rows = sqliteRows(dbFile)
    assert.deepEqual(
      rows.filter((row) => row.id !== account),
      before,
    )

    // A fresh file with the same consumer group (which has committed offsets) starts from the beginning.
    assert.equal(await projector.stop(), 0, projector.stderr)
    others.push(projector)
    const freshFile = join(dir, 'fresh.db')
    projector = await startProjector(`sqlite:${freshFile}`)
    assert.match(projector.stderr, /from the beginning/)
    const rebuilt = await waitFor(
      'the fresh read model to hold every account',
      () => sqliteRows(freshFile),
      (fresh) => fresh.length === rows.length && fresh.every((row, i) => row.version === rows[i].version),
    )
    assert.deepEqual(rebuilt, rows)
  })

  it('the projector with PostgreSQL gives the same rows', async () => {
    const url = process.env.ES_TEST_PG_URL
    assert.ok(url, 'ES_TEST_PG_URL is set by test/run.ts')
    const schema = `bank_${randomBytes(4).toString('hex')}`
    const expected = sqliteRows(join(dir, 'fresh.db'))
    assert.ok(expected.length >= 6)
    const postgresProjector = await ServiceProcess.start(
      'projector (postgres)',
      projectorScript,
      [
        '--brokers',
        brokers,
        '--events-topic',
        topics.events,
        '--snapshots-topic',
        uniqueTopic('bank-snapshots-pg'),
        '--group',
        uniqueTopic('bank-projector-pg'),
        '--read-model',
        url,
        '--schema',
        schema,
      ],
      { ready: /started:/ },
    )
    others.push(postgresProjector)
    assert.doesNotMatch(postgresProjector.stderr, /:es@/, 'the password is not logged')
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const rows = await waitFor(
        `${expected.length} rows in PostgreSQL ${schema}.accounts`,
        async () => {
          const result = await client.query(
            `SELECT id, owner, balance, status, version, updated_at FROM "${schema}".accounts ORDER BY id`,
          )
          return result.rows.map((row) => ({ ...row, balance: Number(row.balance) }))
        },
        (rows) => rows.length === expected.length && rows.every((row, i) => row.version === expected[i].version),
      )
      assert.deepEqual(rows, expected)
      const offsets = await client.query(`SELECT projection, topic FROM "${schema}".projector_offsets`)
      assert.ok(offsets.rows.length > 0)
      assert.ok(offsets.rows.every((r) => r.projection === 'accounts' && r.topic === topics.events))
    } finally {
      await client.end()
    }
    assert.equal(await postgresProjector.stop(), 0, postgresProjector.stderr)
    assert.match(postgresProjector.stderr, /stopped on SIGTERM/)
  })
})
