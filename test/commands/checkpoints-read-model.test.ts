/**
 * `es checkpoints --projection`: offsets a projector keeps in its own read model (a
 * `projector_offsets` table next to its rows, as the sample projector does), against the log and
 * against the consumer group's committed offsets. Real broker, real SQLite and PostgreSQL; the
 * log's start moved with DeleteRecords (retention), offsets committed with Kafka's admin API.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { kcatProduce } from '../support/kcat.js'
import { tempDir } from '../support/temp-dir.js'

const brokers = testBrokers()
const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

interface Report {
  projection: string
  readModel: string
  unsafe: boolean
  differing: number
  group?: { group: string }
  partitions: Array<{
    partition: number
    committed: number | null
    status: string
    lag: number | null
    lost?: number
    group?: { committed: number | null; status: string }
  }>
}

const OFFSETS_TABLE =
  'projection TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset BIGINT NOT NULL, PRIMARY KEY (projection, topic, partition)'

describe('es checkpoints --projection (offsets kept in the read model)', () => {
  let dir: string
  const topic = uniqueTopic('cp-rm')
  const group = `${topic}-projector`
  const pgClient = new pg.Client({ connectionString: process.env.ES_TEST_PG_URL })
  const pgTable = `offsets_${topic.replace(/[^a-z0-9]/gi, '_')}`
  const configs: Record<string, string> = {}
  // Stored by the projector: p0 at the end, p1 behind, p2 below the log start (lost to retention);
  // and a row of another projection in the same table, which must not count.
  const stored: Array<[string, number, number]> = [
    ['accounts', 0, 10],
    ['accounts', 1, 4],
    ['accounts', 2, 2],
    ['other', 0, 1],
  ]

  const writeConfig = async (name: string, readModel: Record<string, unknown>) => {
    const file = join(dir, `${name}.json`)
    await writeFile(
      file,
      JSON.stringify({
        brokers,
        services: {
          bank: {
            streams: { events: topic },
            projections: { accounts: { reducer: 'latest', readModel } },
          },
        },
      }),
    )
    configs[name] = file
  }

  before(async () => {
    dir = await tempDir('es-cp-rm-')
    await createTopic(topic, 3)
    const records: Array<[string, string]> = []
    for (let n = 0; n < 60; n++) records.push([`k${n}`, JSON.stringify({ n })])
    await kcatProduce(brokers, topic, records)
    const admin = testKafka().admin()
    await admin.connect()
    try {
      const ends = await admin.fetchTopicOffsets(topic)
      // Key hashing spreads the 60 records unevenly: the expectations follow the real ends, keeping
      // their shape (at the end, 6 behind, below the start).
      const high = new Map(ends.map((p) => [p.partition, Number(p.high)]))
      stored[0][2] = high.get(0)!
      stored[1][2] = high.get(1)! - 6
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 2, offset: '4' }] })
      await admin.setOffsets({
        groupId: group,
        topic,
        partitions: [
          { partition: 0, offset: String(high.get(0)) },
          { partition: 1, offset: String(high.get(1)! - 3) },
          { partition: 2, offset: '4' },
        ],
      })
    } finally {
      await admin.disconnect()
    }

    const file = join(dir, 'read-model.db')
    const db = new Database(file)
    db.exec(`CREATE TABLE accounts (id TEXT PRIMARY KEY); CREATE TABLE projector_offsets (${OFFSETS_TABLE});`)
    const insert = db.prepare('INSERT INTO projector_offsets VALUES (?, ?, ?, ?)')
    for (const [projection, partition, offset] of stored) insert.run(projection, topic, partition, offset)
    db.close()
    const offsets = { table: 'projector_offsets', where: { projection: 'accounts' } }
    await writeConfig('sqlite', { type: 'sqlite', file, table: 'accounts', offsets })
    await writeConfig('sqlite-with-group', { type: 'sqlite', file, table: 'accounts', offsets: { ...offsets, group } })
    await writeConfig('no-offsets', { type: 'sqlite', file, table: 'accounts' })

    await pgClient.connect()
    await pgClient.query(`CREATE TABLE ${pgTable}_accounts (id TEXT PRIMARY KEY)`)
    await pgClient.query(`CREATE TABLE ${pgTable} (${OFFSETS_TABLE.replace('next_offset BIGINT', 'pos BIGINT')})`)
    for (const [projection, partition, offset] of stored) {
      await pgClient.query(`INSERT INTO ${pgTable} VALUES ($1, $2, $3, $4)`, [projection, topic, partition, offset])
    }
    await writeConfig('postgres', {
      type: 'postgres',
      url: process.env.ES_TEST_PG_URL,
      table: `${pgTable}_accounts`,
      offsets: { table: pgTable, offset: 'pos', where: { projection: 'accounts' } },
    })
  })
  after(async () => {
    await pgClient.query(`DROP TABLE IF EXISTS ${pgTable}, ${pgTable}_accounts`).catch(() => {})
    await pgClient.end()
  })

  const run = async (config: string, extra: string[] = []) => {
    const es = await runEs(['checkpoints', '--projection', 'accounts', '--json', '--config', config, ...extra], {
      env: cleanEnv,
    })
    return { code: es.code, stderr: es.stderr, report: JSON.parse(es.stdout) as Report }
  }

  for (const kind of ['sqlite', 'postgres']) {
    it(`${kind}: lag, behind and lost to retention, exit 1 for the unsafe checkpoint`, async () => {
      const { code, report, stderr } = await run(configs[kind])
      assert.equal(code, 1, stderr)
      assert.equal(report.projection, 'accounts')
      assert.match(report.readModel, /offsets in /)
      assert.equal(report.unsafe, true)
      assert.deepEqual(
        report.partitions.map((p) => [p.partition, p.committed, p.status, p.lag, p.lost ?? null]),
        [
          [0, stored[0][2], 'current', 0, null],
          [1, stored[1][2], 'behind', 6, null],
          [2, 2, 'below-start', report.partitions[2].lag, 2],
        ],
      )
      assert.equal(report.group, undefined)
    })
  }

  it('compares with the consumer group named in the config (or as the argument)', async () => {
    for (const [config, extra] of [
      [configs['sqlite-with-group'], []],
      [configs.sqlite, [group]],
    ] as const) {
      const { report } = await run(config, [...extra])
      assert.equal(report.group?.group, group)
      assert.deepEqual(
        report.partitions.map((p) => [p.partition, p.group?.committed]),
        [
          [0, stored[0][2]],
          [1, stored[1][2] + 3],
          [2, 4],
        ],
      )
      assert.equal(report.differing, 2)
    }
  })

  it('a read model without an offsets table is a configuration error naming the setting', async () => {
    const es = await runEs(['checkpoints', '--projection', 'accounts', '--config', configs['no-offsets']], {
      env: cleanEnv,
    })
    assert.equal(es.code, 3, es.stderr)
    assert.match(es.stderr, /^error: the read model of projection accounts declares no offsets table/m)
    assert.match(es.stderr, /readModel\.offsets/)
  })
})
