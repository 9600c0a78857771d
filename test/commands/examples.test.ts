/**
 * The five seed examples on the real broker: each example's fixtures (written by encoders that are
 * not ours) are produced with librdkafka, then `es` replays them with the example's own config and
 * reducer, and the state is compared with the fold of the real system — written out by hand from
 * what the system's code does, not by running the reducer. Then what `es` must get right about
 * these systems: locators that fold one aggregate whatever the case of its UUIDs (seed 002), field
 * names that ksqlDB upper-cases (seed 003), and zone-less read-model times (seed 004) read in the
 * configured zone whatever the operator's TZ.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import pg from 'pg'
import { parse, stringify } from 'yaml'
import { ndjsonLines, runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { librdkafkaProduce, type ProducedRecord } from '../support/librdkafka.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
/** A config document as YAML parses it, edited in place. */
// biome-ignore lint/suspicious/noExplicitAny: the shapes of five example configs
type Doc = Record<string, any>

const KEEP_FOREVER = [{ name: 'retention.ms', value: '-1' }]
const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined, ES_SERVICE: undefined }

interface Example {
  dir: string
  config: string
  /** Example topic name → the test's topic name. */
  topics: Map<string, string>
  doc: Doc
}

/**
 * A copy of examples/<name>/es.config.yaml on topics of its own (paths made absolute), with the
 * fixtures produced to them by librdkafka, partitions and timestamps as in the fixtures.
 */
async function setUp(name: string, fixtures: string, edit?: (doc: Doc) => void): Promise<Example> {
  const source = join(root, 'examples', name)
  const dir = await mkdtemp(join(tmpdir(), `es-example-${name}-`))
  const doc = parse(await readFile(join(source, 'es.config.yaml'), 'utf8')) as Doc
  const lines = ndjsonLines<ProducedRecord & { partition: number }>(
    await readFile(join(source, 'fixtures', fixtures), 'utf8'),
  )
  const prefix = uniqueTopic(name)
  const topics = new Map<string, string>()
  const rename = (topic: string) => {
    if (!topics.has(topic)) topics.set(topic, `${prefix}.${topic}`)
    return topics.get(topic) as string
  }
  const absolute = (path: string) => (isAbsolute(path) ? path : join(source, path))
  for (const service of Object.values(doc.services) as Array<Doc>) {
    for (const [stream, value] of Object.entries(service.streams ?? {})) {
      service.streams[stream] = Array.isArray(value) ? value.map(rename) : rename(value as string)
    }
    for (const part of ['key', 'value']) {
      const codec = service.codec?.[part]
      if (codec?.schema) codec.schema = absolute(codec.schema)
      if (codec?.schemas) codec.schemas = codec.schemas.map(absolute)
      if (codec?.schemaTopic) codec.schemaTopic = rename(codec.schemaTopic)
    }
    for (const projection of Object.values(service.projections ?? {}) as Array<Doc>) {
      if (!['latest', 'merge', 'count', 'collect'].includes(projection.reducer)) {
        projection.reducer = absolute(projection.reducer)
      }
      if (projection.readModel?.type === 'topic') projection.readModel.topic = rename(projection.readModel.topic)
    }
  }
  doc.brokers = testBrokers()
  edit?.(doc)
  const partitions = new Map<string, number>()
  for (const line of lines) {
    partitions.set(rename(line.topic), Math.max(partitions.get(rename(line.topic)) ?? 1, line.partition + 1))
  }
  // The fixtures' timestamps are years old: without this, retention would delete them mid-test.
  for (const [topic, count] of partitions) await createTopic(topic, count, KEEP_FOREVER)
  await librdkafkaProduce(
    testBrokers(),
    lines.map((line) => ({ ...line, topic: rename(line.topic) })),
  )
  const config = join(dir, 'es.config.yaml')
  await writeFile(config, stringify(doc))
  return { dir, config, topics, doc }
}

async function replay(example: Example, projection: string, extra: string[] = []) {
  const out = join(example.dir, `${projection}.json`)
  const run = await runEs(
    ['replay', '--projection', projection, '--from-beginning', '--out', out, '--config', example.config, ...extra],
    { env: cleanEnv },
  )
  assert.equal(run.code, 0, run.stderr)
  return JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>
}

describe('seed examples replayed from their fixtures on the real broker, against the real systems’ folds', () => {
  const examples: Example[] = []
  after(async () => {
    for (const example of examples) await rm(example.dir, { recursive: true, force: true })
  })

  it('seed 000 shopping cart: the carts the Cassandra table holds after the eight commands', async () => {
    const example = await setUp('shopping-cart', 'shoppingcartcmd-topic.ndjson')
    examples.push(example)
    const cart1 = '2b5b2d9e-3a0c-4c1e-9a43-0e6f6a3b8c11'
    // By hand: Insert (version 0), AddItem apple 3, AddItem pear 2, RemoveItem apple 1, SetOwner
    // → four changes; the second cart is inserted and deleted.
    assert.deepEqual(await replay(example, 'carts'), {
      [cart1]: {
        cartId: cart1,
        owner: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
        items: { '0f8e2a51-7c3d-4b9e-a6f1-2d3c4b5a6978': 2, 'd4c3b2a1-9f8e-4d7c-b6a5-4f3e2d1c0b9a': 2 },
        version: 4,
      },
    })
  })

  it('seed 001 es4kafka bank: balances as Kafka Streams aggregated them, and es diff agrees with its accounts table', async () => {
    const example = await setUp('es4kafka-bank', 'records.ndjson')
    examples.push(example)
    // By hand: alice +100 −30, the −200 refused (Movement 0), +5; bob +10.
    assert.deepEqual(await replay(example, 'accounts'), { alice: { balance: 75 }, bob: { balance: 10 } })
    // The system's own fold: the Account snapshots Kafka Streams wrote to its changelog.
    const diff = await runEs(['diff', 'accounts', '--config', example.config], { env: cleanEnv })
    assert.equal(diff.code, 0, `${diff.stdout}\n${diff.stderr}`)
  })

  it('seed 002 calculator: the values GET /values/{id} answers (202), repeated histories included', async () => {
    const example = await setUp('calculator', 'records.ndjson')
    examples.push(example)
    const [v1, v2] = ['d35e95f5-2a7a-4c31-8d28-2eb92643a154', '5b1c7a3e-9f0d-4e2b-8c6a-1d2e3f4a5b6c']
    // By hand: v1 created 3.0, ×3.0, +… as the materialized view applies them (db::insert on
    // ValueCreated, get + op on ValueUpdated); the restart repeats both histories.
    assert.deepEqual(await replay(example, 'values'), {
      [v1]: { value_id: v1, value: 6.5 },
      [v2]: { value_id: v2, value: 1.5 },
    })
  })

  it('seed 003 ride-hailing: the orders GET /orders/{id} answers (the repository README)', async () => {
    const example = await setUp('ride-hailing', 'records.ndjson')
    examples.push(example)
    const orders = await replay(example, 'orders')
    const order = orders['827e3a63-d252-415f-af60-94c5a36bfcd6'] as Record<string, unknown>
    assert.deepEqual(
      [order.version, order.status, order.completedDate, (order.errors as unknown[]).length],
      [3, 'COMPLETED', '2021-04-23T15:26:26.791512Z', 4],
    )
    assert.deepEqual((order.errors as unknown[])[3], {
      command: 'CancelOrderCommand',
      expectedVersion: 3,
      message: "Order in status COMPLETED can't be cancelled",
    })
    const other = orders['5a1c9e7b-3d2f-4b8a-9c6d-0e1f2a3b4c5d'] as Record<string, unknown>
    assert.deepEqual([other.version, other.status, other.errors], [2, 'CANCELLED', []])
  })

  it('seed 003: the command ksqlDB wrote with upper-case names is read by the same locators (ignoreCase)', async () => {
    const example = examples.find((e) => e.topics.has('order-commands-and-events')) as Example
    const run = await runEs(
      [
        'tail',
        'commands',
        '--from-beginning',
        '-e',
        '-o',
        'ndjson',
        '--type',
        'CancelOrderCommand',
        '--config',
        example.config,
      ],
      { env: cleanEnv },
    )
    assert.equal(run.code, 0, run.stderr)
    const inserted = ndjsonLines(run.stdout).filter((r) => r.aggregateId === '5a1c9e7b-3d2f-4b8a-9c6d-0e1f2a3b4c5d')
    assert.equal(inserted.length, 1)
    assert.deepEqual(Object.keys(inserted[0].value as object), ['IS_COMMAND', 'TYPE', 'JSON_DATA'])
  })

  it('seed 004 spring bank: the bank_account rows AccountEventHandler keeps (closed deleted, unknown ignored)', async () => {
    const example = await setUp('spring-bank', 'records.ndjson')
    examples.push(example)
    const john = '5f0a3c1e-7b2d-4e8f-9a61-3c4d5e6f7a8b'
    // By hand: 50.0 + 25.0 + 12.5 − 17.25; Jane's account closed (row deleted); the deposit for
    // an account the table never held is ignored.
    assert.deepEqual(await replay(example, 'bank-accounts'), {
      [john]: {
        id: john,
        accountHolder: 'John Doe',
        creationDate: 1666950000000,
        accountType: 'SAVINGS',
        balance: 70.25,
      },
    })
  })
})

describe('locators on the real broker: one aggregate whatever the case of its UUIDs (| lower, seed 002)', () => {
  let example: Example
  const value = 'd35e95f5-2a7a-4c31-8d28-2eb92643a154'
  before(async () => {
    example = await setUp('calculator', 'records.ndjson')
    // Another producer writes the value id in upper case: the calculator's UUID parser takes both.
    await librdkafkaProduce(testBrokers(), [
      {
        topic: example.topics.get('events') as string,
        timestamp: 1613068400000,
        key: { text: '4f1d2c3b-5a69-4788-9a0b-1c2d3e4f5a6b' },
        value: {
          text: JSON.stringify({
            action: 'ValueUpdated',
            id: '4f1d2c3b-5a69-4788-9a0b-1c2d3e4f5a6b',
            parent: '7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908',
            data: { value_id: value.toUpperCase(), operation: 'ADD', value: 1.0 },
          }),
        },
      },
    ])
  })
  after(async () => {
    await rm(example.dir, { recursive: true, force: true })
  })

  it('folds the upper-case update into the same value', async () => {
    const values = await replay(example, 'values')
    assert.deepEqual(Object.keys(values).sort(), [value, '5b1c7a3e-9f0d-4e2b-8c6a-1d2e3f4a5b6c'].sort())
    assert.deepEqual(values[value], { value_id: value, value: 7.5 })
  })
})

describe('es diff reads zone-less times in the configured timeZone, whatever TZ it runs in (seed 004)', () => {
  let example: Example
  let client: pg.Client
  const schema = `tz_${Date.now().toString(36)}`
  const john = '5f0a3c1e-7b2d-4e8f-9a61-3c4d5e6f7a8b'
  /** bank_account as Hibernate creates it for BankAccount (PostgreSQL94Dialect). */
  const ddl = (table: string, timestamp: string) =>
    `CREATE TABLE ${table} (id varchar(255) NOT NULL PRIMARY KEY, account_holder varchar(255), account_type int4, balance float8 NOT NULL, creation_date ${timestamp})`
  const sqliteFile = (name: string, creationDate: string) => {
    const file = join(example.dir, name)
    const db = new Database(file)
    db.exec(ddl('bank_account', 'timestamp'))
    db.prepare('INSERT INTO bank_account VALUES (?, ?, ?, ?, ?)').run(john, 'John Doe', 0, 70.25, creationDate)
    db.close()
    return file
  }
  const configWith = async (name: string, readModel: Record<string, unknown>, timeZone?: string) => {
    const doc = structuredClone(example.doc)
    const service = doc.services['bank-account']
    service.projections['bank-accounts'].readModel = readModel
    if (timeZone) service.timeZone = timeZone
    const file = join(example.dir, `${name}.yaml`)
    await writeFile(file, stringify(doc))
    return file
  }
  const diff = (config: string, tz: string) =>
    runEs(['diff', 'bank-accounts', '--json', '--config', config], { env: { ...cleanEnv, TZ: tz } })

  before(async () => {
    example = await setUp('spring-bank', 'records.ndjson')
    client = new pg.Client({ connectionString: process.env.ES_TEST_PG_URL })
    await client.connect()
    await client.query(`CREATE SCHEMA ${schema}`)
    // The query service's JVM ran in UTC: Hibernate wrote creation_date as a UTC wall clock;
    // a second table as a service in Istanbul (UTC+3) wrote it.
    for (const [table, wall] of [
      ['bank_account', '2022-10-28 09:40:00'],
      ['bank_account_istanbul', '2022-10-28 12:40:00'],
    ]) {
      await client.query(ddl(`${schema}.${table}`, 'timestamp'))
      await client.query(`INSERT INTO ${schema}.${table} VALUES ($1, $2, $3, $4, $5)`, [
        john,
        'John Doe',
        0,
        70.25,
        wall,
      ])
    }
  })
  after(async () => {
    await client.query(`DROP SCHEMA ${schema} CASCADE`)
    await client.end()
    await rm(example.dir, { recursive: true, force: true })
  })

  for (const tz of ['UTC', 'Asia/Tokyo', 'America/Los_Angeles']) {
    it(`TZ=${tz}: PostgreSQL timestamp and SQLite text agree with the replay (UTC by default)`, async () => {
      const postgres = await configWith('pg', {
        type: 'postgres',
        url: process.env.ES_TEST_PG_URL,
        table: `${schema}.bank_account`,
      })
      const sqlite = await configWith('sqlite', {
        type: 'sqlite',
        file: sqliteFile(`utc-${tz.replace('/', '-')}.db`, '2022-10-28 09:40:00'),
        table: 'bank_account',
      })
      for (const config of [postgres, sqlite]) {
        const run = await diff(config, tz)
        assert.equal(run.code, 0, `${config} TZ=${tz}\n${run.stdout}\n${run.stderr}`)
        assert.deepEqual(JSON.parse(run.stdout).counts.compared, 1)
      }
    })
  }

  it('timeZone (service or read model) names the zone the service wrote in; without it, that is drift', async () => {
    const table = { type: 'postgres', url: process.env.ES_TEST_PG_URL, table: `${schema}.bank_account_istanbul` }
    const byService = await configWith('istanbul-service', table, 'Europe/Istanbul')
    const byReadModel = await configWith('istanbul-read-model', { ...table, timeZone: 'Europe/Istanbul' })
    const sqlite = await configWith('istanbul-sqlite', {
      type: 'sqlite',
      file: sqliteFile('istanbul.db', '2022-10-28 12:40:00'),
      table: 'bank_account',
      timeZone: 'Europe/Istanbul',
    })
    for (const config of [byService, byReadModel, sqlite]) {
      const run = await diff(config, 'Asia/Tokyo')
      assert.equal(run.code, 0, `${config}\n${run.stdout}\n${run.stderr}`)
    }
    const unzoned = await configWith('istanbul-as-utc', table)
    const drift = await diff(unzoned, 'Asia/Tokyo')
    assert.equal(drift.code, 1, drift.stderr)
    const [detail] = JSON.parse(drift.stdout).details
    assert.deepEqual(
      detail.fields.map((f: { field: string }) => f.field),
      ['creationDate'],
    )
    const bad = await configWith('bad-zone', { ...table, timeZone: 'Mars/Olympus' })
    const refused = await diff(bad, 'UTC')
    assert.equal(refused.code, 3)
    assert.match(
      refused.stderr,
      /"Mars\/Olympus" is not a time zone at services\.bank-account\.projections\.bank-accounts\.readModel\.timeZone/,
    )
  })
})
