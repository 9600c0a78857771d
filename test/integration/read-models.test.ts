/**
 * Every ReadModel implementation through the same contract (test/support/read-model-contract.ts),
 * on real parts: a SQLite file, the PostgreSQL started by test/run.ts, an HTTP server on a local
 * port, a compacted topic on the test broker. Then how each reports what is wrong, with the exit
 * code of SPEC.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { JsonCodec } from '../../src/codecs/json-codec.js'
import { StringCodec } from '../../src/codecs/text-codecs.js'
import { type EsError, ExitCode } from '../../src/errors.js'
import { KafkaLogReader } from '../../src/kafka/kafka-log-reader.js'
import { openHttpReadModel } from '../../src/read-models/http-read-model.js'
import { openPostgresReadModel, openPostgresRebuildTarget } from '../../src/read-models/postgres-read-model.js'
import { MemoryReadModel } from '../../src/read-models/read-model.js'
import { openSqliteReadModel, openSqliteRebuildTarget } from '../../src/read-models/sqlite-read-model.js'
import { openTopicReadModel } from '../../src/read-models/topic-read-model.js'
import { codecSnapshotDecoder } from '../../src/snapshots/latest.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { type AccountRow, readModelContract, rebuildableContract } from '../support/read-model-contract.js'
import { tempDir } from '../support/temp-dir.js'

function pgUrl(): string {
  const url = process.env.ES_TEST_PG_URL
  assert.ok(url, 'ES_TEST_PG_URL is set by test/run.ts')
  return url
}

async function sqliteFile(rows: AccountRow[]): Promise<string> {
  const file = join(await tempDir('es-read-model-'), 'accounts.db')
  const db = new Database(file)
  db.exec('CREATE TABLE accounts (id TEXT PRIMARY KEY, owner TEXT, balance REAL NOT NULL, version INTEGER NOT NULL)')
  db.exec('CREATE INDEX accounts_owner ON accounts (owner)')
  const insert = db.prepare('INSERT INTO accounts VALUES (@id, @owner, @balance, @version)')
  for (const row of rows) insert.run(row)
  db.close()
  return file
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))
  })
}

async function expectError(promise: Promise<unknown>, exitCode: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: EsError) => {
    assert.equal(error.exitCode, exitCode, error.message)
    assert.match(error.message, message)
    return true
  })
}

readModelContract('memory', async () => ({
  listable: true,
  open: async (rows) => new MemoryReadModel(rows.map((r) => [r.id, { ...r }])),
}))

const accountColumns = ['id', 'owner', 'balance', 'version']

rebuildableContract('memory', async () => ({
  open: async (rows) =>
    new MemoryReadModel(
      rows.map((r) => [r.id, { ...r }]),
      { columns: accountColumns, required: ['balance', 'version'] },
    ),
}))

rebuildableContract('SQLite file (with a secondary index)', async () => ({
  open: async (rows) => openSqliteRebuildTarget({ file: await sqliteFile(rows), table: 'accounts' }),
}))

/**
 * PostgreSQL accounts tables, one schema each (NUMERIC balance, BIGINT version, an index on
 * owner), dropped at cleanup.
 */
async function postgresAccounts() {
  const client = new pg.Client({ connectionString: pgUrl() })
  await client.connect()
  const schemas: string[] = []
  return {
    async create(prefix: string, rows: AccountRow[]): Promise<string> {
      const schema = `${prefix}_${randomBytes(4).toString('hex')}`
      schemas.push(schema)
      await client.query(`CREATE SCHEMA ${schema}`)
      await client.query(
        `CREATE TABLE ${schema}.accounts (id TEXT PRIMARY KEY, owner TEXT, balance NUMERIC NOT NULL, version BIGINT NOT NULL)`,
      )
      await client.query(`CREATE INDEX accounts_owner ON ${schema}.accounts (owner)`)
      for (const r of rows) {
        await client.query(`INSERT INTO ${schema}.accounts VALUES ($1, $2, $3, $4)`, [
          r.id,
          r.owner,
          r.balance,
          r.version,
        ])
      }
      return `${schema}.accounts`
    },
    async cleanup(): Promise<void> {
      for (const schema of schemas) await client.query(`DROP SCHEMA ${schema} CASCADE`)
      await client.end()
    },
  }
}

rebuildableContract('PostgreSQL table', async () => {
  const tables = await postgresAccounts()
  return {
    open: async (rows) => openPostgresRebuildTarget({ url: pgUrl(), table: await tables.create('rb', rows) }),
    cleanup: () => tables.cleanup(),
  }
})

readModelContract('SQLite file', async () => ({
  listable: true,
  open: async (rows) => openSqliteReadModel({ file: await sqliteFile(rows), table: 'accounts' }),
}))

readModelContract('PostgreSQL table (NUMERIC balance)', async () => {
  const tables = await postgresAccounts()
  return {
    listable: true,
    open: async (rows) => openPostgresReadModel({ url: pgUrl(), table: await tables.create('rm', rows) }),
    cleanup: () => tables.cleanup(),
  }
})

for (const listable of [true, false]) {
  readModelContract(`HTTP API ${listable ? 'with' : 'without'} a list URL`, async () => {
    let server: Server | undefined
    return {
      listable,
      open: async (rows) => {
        server = createServer((request, response) => {
          const url = new URL(request.url ?? '/', 'http://x')
          const match = /^\/accounts\/(.+)$/.exec(url.pathname)
          const body =
            url.pathname === '/accounts' ? rows : rows.find((r) => match && r.id === decodeURIComponent(match[1]))
          response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
          response.end(body === undefined ? '{"error":"not found"}' : JSON.stringify(body))
        })
        const port = await listen(server)
        return openHttpReadModel({
          url: `http://127.0.0.1:${port}/accounts/{id}`,
          ...(listable ? { listUrl: `http://127.0.0.1:${port}/accounts` } : {}),
        })
      },
      cleanup: async () => {
        await new Promise((resolve) => server?.close(resolve))
      },
    }
  })
}

// The calculator service (seed 002) answers 202 with the row, and 204 for an unknown id.
readModelContract('HTTP API answering 202 and 204 (the calculator service)', async () => {
  let server: Server | undefined
  return {
    listable: false,
    open: async (rows) => {
      server = createServer((request, response) => {
        const match = /^\/values\/(.+)$/.exec(new URL(request.url ?? '/', 'http://x').pathname)
        const body = rows.find((r) => match && r.id === decodeURIComponent(match[1]))
        if (body === undefined) {
          response.writeHead(204)
          response.end()
          return
        }
        response.writeHead(202, { 'content-type': 'application/json' })
        response.end(JSON.stringify(body))
      })
      const port = await listen(server)
      return openHttpReadModel({ url: `http://127.0.0.1:${port}/values/{id}` })
    },
    cleanup: async () => {
      await new Promise((resolve) => server?.close(resolve))
    },
  }
})

readModelContract('compacted topic (latest value per key, tombstones applied)', async () => {
  const topic = uniqueTopic('rm-snapshots')
  const reader = new KafkaLogReader({
    brokers: testBrokers().split(','),
    clientId: 'es-test-read-model',
    connectionTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  })
  return {
    listable: true,
    open: async (rows) => {
      await createTopic(topic, 2, [{ name: 'cleanup.policy', value: 'compact' }])
      const producer = testKafka().producer()
      await producer.connect()
      // Older versions first, and a key deleted by a tombstone: only the latest values remain.
      await producer.send({
        topic,
        messages: [
          ...rows.map((r) => ({ key: r.id, value: JSON.stringify({ ...r, balance: -1, version: 0 }) })),
          { key: 'acc-gone', value: JSON.stringify({ id: 'acc-gone', balance: 1, version: 1 }) },
          { key: 'acc-gone', value: null },
          ...rows.map((r) => ({ key: r.id, value: JSON.stringify(r) })),
        ],
      })
      await producer.disconnect()
      return openTopicReadModel(topic, {
        reader,
        decode: codecSnapshotDecoder({ key: new StringCodec(), value: new JsonCodec() }),
      })
    },
    cleanup: () => reader.close(),
  }
})

describe('read models: what is wrong, and the exit code', () => {
  it('SQLite: a missing file is unreachable (4); a wrong table is not found (6) with near matches; a wrong key column is config (3)', async () => {
    const dir = await tempDir('es-read-model-errors-')
    await expectError(
      openSqliteReadModel({ file: join(dir, 'nope.db'), table: 'accounts' }),
      ExitCode.unreachable,
      /nope\.db does not exist/,
    )
    const file = await sqliteFile([])
    await expectError(openSqliteReadModel({ file, table: 'acounts' }), ExitCode.notFound, /table "acounts" not found/)
    await assert.rejects(openSqliteReadModel({ file, table: 'acounts' }), (e: EsError) =>
      /did you mean accounts/.test(e.suggestion ?? ''),
    )
    await expectError(
      openSqliteReadModel({ file, table: 'accounts', key: 'account_id' }),
      ExitCode.config,
      /no key column "account_id"/,
    )
  })

  it('PostgreSQL: a closed port is unreachable (4) and the password is not shown; a wrong table is not found (6)', async () => {
    const url = new URL(pgUrl())
    const closed = `postgres://${url.username}:secret-pw@127.0.0.1:1/${url.pathname.slice(1)}`
    await assert.rejects(openPostgresReadModel({ url: closed, table: 'accounts' }), (error: EsError) => {
      assert.equal(error.exitCode, ExitCode.unreachable)
      assert.doesNotMatch(error.message, /secret-pw/)
      return true
    })
    await expectError(
      openPostgresReadModel({ url: pgUrl(), table: 'no_such_table' }),
      ExitCode.notFound,
      /"no_such_table" not found/,
    )
  })

  it('HTTP: a refused connection is unreachable (4); an error status is unreachable (4); a URL without {id} is config (3)', async () => {
    const refused = openHttpReadModel({ url: 'http://127.0.0.1:1/accounts/{id}' })
    await expectError(refused.get(['a']), ExitCode.unreachable, /127\.0\.0\.1:1\/accounts\/a unreachable/)
    const server = createServer((_request, response) => {
      response.writeHead(500)
      response.end('boom')
    })
    const port = await listen(server)
    try {
      await expectError(
        openHttpReadModel({ url: `http://127.0.0.1:${port}/a/{id}` }).get(['x']),
        ExitCode.unreachable,
        /answered 500/,
      )
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
    assert.throws(
      () => openHttpReadModel({ url: 'http://127.0.0.1/accounts' }),
      (e: EsError) => e.exitCode === ExitCode.config,
    )
  })

  it('HTTP: which statuses mean "no such row" is configurable; a body that is not JSON names the URL, the status and its first bytes', async () => {
    const server = createServer((request, response) => {
      if (request.url === '/a/gone') {
        response.writeHead(410)
        response.end('gone')
      } else {
        response.writeHead(200, { 'content-type': 'text/html' })
        response.end('<html><body>Welcome to nginx!</body></html>')
      }
    })
    const port = await listen(server)
    try {
      const model = openHttpReadModel({ url: `http://127.0.0.1:${port}/a/{id}`, absentStatuses: [410] })
      assert.deepEqual([...(await model.get(['gone'])).keys()], [])
      await expectError(
        model.get(['page']),
        ExitCode.invalidData,
        new RegExp(
          `^read model http://127\\.0\\.0\\.1:${port}/a/page answered 200 with a body that is not JSON: "<html><body>Welcome to nginx`,
        ),
      )
      // 410 is an error where it was not declared absent.
      await expectError(
        openHttpReadModel({ url: `http://127.0.0.1:${port}/a/{id}` }).get(['gone']),
        ExitCode.unreachable,
        /answered 410/,
      )
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('rebuilding tables: what each database keeps', () => {
  it('SQLite: the live table keeps its secondary index names across a swap, and views follow the new table', async () => {
    const file = await sqliteFile([{ id: 'acc-1', owner: 'Ada', balance: 1, version: 1 }])
    const setup = new Database(file)
    setup.exec('CREATE VIEW rich AS SELECT id FROM accounts WHERE balance > 10')
    setup.close()
    const model = await openSqliteRebuildTarget({ file, table: 'accounts' })
    try {
      await model.createShadow()
      await model.writeShadow([{ id: 'acc-2', owner: 'Bo', balance: 50, version: 2 }])
      const { kept } = await model.swapShadow({ keepOld: true })
      assert.ok(kept)
      const db = new Database(file, { readonly: true })
      try {
        const index = db
          .prepare("SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = 'accounts_owner'")
          .get() as { tbl_name: string }
        assert.equal(index.tbl_name, 'accounts')
        assert.deepEqual(db.prepare('SELECT id FROM rich').all(), [{ id: 'acc-2' }])
        assert.deepEqual(db.prepare(`SELECT id FROM "${kept}"`).all(), [{ id: 'acc-1' }])
      } finally {
        db.close()
      }
    } finally {
      await model.close()
    }
  })

  it('PostgreSQL: the live table keeps its index names across a swap (so the next rebuild works the same)', async () => {
    const schema = `rbi_${randomBytes(4).toString('hex')}`
    const client = new pg.Client({ connectionString: pgUrl() })
    await client.connect()
    try {
      await client.query(`CREATE SCHEMA ${schema}`)
      await client.query(`CREATE TABLE ${schema}.accounts (id TEXT PRIMARY KEY, owner TEXT, balance NUMERIC NOT NULL)`)
      await client.query(`CREATE INDEX accounts_owner ON ${schema}.accounts (owner)`)
      const model = await openPostgresRebuildTarget({ url: pgUrl(), table: `${schema}.accounts` })
      try {
        for (const keepOld of [true, false]) {
          await model.createShadow()
          await model.writeShadow([{ id: 'acc-2', owner: 'Bo', balance: 50 }])
          await model.swapShadow({ keepOld })
        }
      } finally {
        await model.close()
      }
      const indexes = await client.query(
        'SELECT tablename, indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
        [schema],
      )
      const live = indexes.rows.filter((r) => r.tablename === 'accounts').map((r) => r.indexname)
      assert.deepEqual(live, ['accounts_owner', 'accounts_pkey'].sort())
      assert.equal(
        indexes.rows.filter((r) => r.tablename !== 'accounts').length,
        2,
        'the kept table has its own two indexes',
      )
    } finally {
      await client.query(`DROP SCHEMA ${schema} CASCADE`)
      await client.end()
    }
  })
})
