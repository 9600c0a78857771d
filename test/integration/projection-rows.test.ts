/**
 * A projection's rows encoded where they were folded: with `encodeRows`, each folding thread whose
 * states stayed in memory turns them into the target's encoded rows (PostgreSQL COPY text) itself,
 * instead of posting its states for the main thread to convert one by one. The rows must be
 * exactly those of the main-thread path (states → read-model rows → table rows → COPY text).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { loadConfig } from '../../src/config/load.js'
import { fixRanges, projectionWithReadModel } from '../../src/projections/projection.js'
import { replayProjectionStates } from '../../src/projections/states.js'
import { encodeCopyRows } from '../../src/read-models/postgres-copy.js'
import { toTableRows } from '../../src/read-models/table-rows.js'
import { openRuntime } from '../../src/service/runtime.js'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { loadgen, writeLoadgenConfig } from '../support/loadgen.js'

const table = { columns: ['id', 'owner', 'balance', 'status', 'version', 'updated_at'], key: 'id' }

describe('projection rows encoded in the folding threads (real broker)', () => {
  let dir: string
  let configFile: string
  const topic = uniqueTopic('rows-in-threads')

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-rows-'))
    await createTopic(topic, 4)
    await loadgen(['--brokers', testBrokers(), '--events', '6000', '--accounts', '500', '--topic', topic])
    configFile = join(dir, 'es.config.yaml')
    await writeLoadgenConfig(
      configFile,
      testBrokers(),
      topic,
      '{ type: postgres, url: "postgres://es@127.0.0.1:1/x", table: accounts }',
    )
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** The projection's rows as COPY lines, sorted, and the fields without a column. */
  const fold = async (encode: boolean) => {
    const config = await loadConfig({ cwd: dir, configPath: configFile, env: {} })
    const runtime = openRuntime(config, undefined)
    try {
      const source = await projectionWithReadModel(runtime.service, 'accounts', 'rebuild-projection')
      const states = await replayProjectionStates({
        runtime,
        source,
        ranges: await fixRanges(runtime.reader, source.topics),
        onError: 'fail',
        workers: 2,
        encodeRows: encode ? { encoding: 'postgres-copy', table, batchRows: 100 } : undefined,
      })
      try {
        const rest = toTableRows(states.rows(), table)
        const lines = [...states.encoded.chunks.map((chunk) => chunk.text), encodeCopyRows(rest.rows, 'id').text]
          .join('')
          .split('\n')
          .filter((line) => line !== '')
        return {
          threadChunks: states.encoded.chunks.length,
          columns: [...new Set(states.encoded.chunks.map((chunk) => chunk.columns.join(',')))],
          lines: lines.sort(),
          unmapped: [...new Set([...states.encoded.unmapped, ...rest.unmapped])].sort(),
          rowsLeft: rest.rows.length,
        }
      } finally {
        await states.close()
      }
    } finally {
      await runtime.close()
    }
  }

  it('gives exactly the rows of the main-thread path, made by the threads in chunks of batchRows', async () => {
    const inThreads = await fold(true)
    const onMain = await fold(false)
    assert.equal(onMain.threadChunks, 0, 'without encodeRows the threads post states')
    assert.ok(onMain.lines.length > 400, `rows: ${onMain.lines.length}`)
    assert.equal(inThreads.rowsLeft, 0, 'every state was encoded by a thread')
    // 2 threads, ≈250 rows each, 100 per chunk.
    assert.ok(inThreads.threadChunks >= 4, `chunks: ${inThreads.threadChunks}`)
    assert.deepEqual(inThreads.columns, [table.columns.join(',')])
    assert.deepEqual(inThreads.lines, onMain.lines)
    assert.deepEqual(inThreads.unmapped, onMain.unmapped)
  })

  it('es rebuild-projection --workers 2 into PostgreSQL: the same table as one thread, and es diff agrees (with 2 threads and 1)', async () => {
    const url = process.env.ES_TEST_PG_URL
    assert.ok(url, 'ES_TEST_PG_URL is set by test/run.ts')
    const schema = `rows_${topic.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(`CREATE SCHEMA "${schema}"`)
      await client.query(
        `CREATE TABLE "${schema}".accounts (id TEXT PRIMARY KEY, owner TEXT, balance NUMERIC NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT)`,
      )
      const config = join(dir, 'pg.config.yaml')
      await writeLoadgenConfig(
        config,
        testBrokers(),
        topic,
        `{ type: postgres, url: "${url}", table: ${schema}.accounts }`,
      )
      const table = async () =>
        (
          await client.query(
            `SELECT id, owner, balance::text, status, version, updated_at FROM "${schema}".accounts ORDER BY id`,
          )
        ).rows
      const tables: unknown[] = []
      for (const workers of [2, 1]) {
        const run = await runEs(
          ['rebuild-projection', 'accounts', '--yes', '--json', '--workers', String(workers), '--config', config],
          {
            timeoutMs: 90_000,
          },
        )
        assert.equal(run.code, 0, run.stderr)
        const result = JSON.parse(run.stdout)
        assert.equal(result.replay.workers, workers)
        assert.equal(result.rows, (await table()).length)
        tables.push(await table())
      }
      assert.ok((tables[0] as unknown[]).length > 400)
      assert.deepEqual(tables[0], tables[1])
      for (const workers of ['2', '1']) {
        const diff = await runEs(['diff', 'accounts', '--workers', workers, '--json', '--config', config], {
          timeoutMs: 90_000,
        })
        assert.equal(diff.code, 0, diff.stderr)
        assert.equal(JSON.parse(diff.stdout).replay.workers, Number(workers))
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await client.end()
    }
  })
})
