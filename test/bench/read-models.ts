/**
 * Read models (the read-models-at-scale issue), against what operators do instead, into a real
 * PostgreSQL (embedded, started here):
 *   - rebuild: `es rebuild-projection accounts --yes` vs resetting the sample projector — an empty
 *     schema (its table and its offsets table: the projector resumes from the offsets it keeps in
 *     its read model) and a new consumer group from the earliest offsets — timed from its start
 *     until its stored offsets reach the same end offsets; `es diff` checks both tables against the
 *     events (exit 0 after each);
 *   - diff: `es diff accounts` vs `es replay --projection accounts` alone;
 *   - with `--scale`: 20M events over 10M aggregates, rebuild and diff peak RSS.
 */
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { type RunningPostgres, startPostgres } from '../support/postgres.js'
import {
  type BenchContext,
  bankReducer,
  check,
  fmt,
  mb,
  median,
  type Row,
  root,
  type SectionResult,
  type Timing,
  timedEs,
} from './support.js'

const projectorBin = join(root, 'dist/examples/bank/projector.js')

export async function readModels(
  context: BenchContext,
  runs: number,
  events: number,
  aggregates: number,
): Promise<SectionResult> {
  const postgres = await startPostgres()
  try {
    return await measure(context, runs, postgres, events, aggregates)
  } finally {
    await postgres.stop()
  }
}

async function measure(
  context: BenchContext,
  runs: number,
  postgres: RunningPostgres,
  events: number,
  aggregates: number,
): Promise<SectionResult> {
  const topic = await context.bankTopic(events, aggregates)
  const client = new pg.Client({ connectionString: postgres.url })
  await client.connect()
  try {
    const reset: number[] = []
    const rebuild: Timing[] = []
    const diff: Timing[] = []
    const replay: number[] = []
    for (let run = 1; run <= runs; run++) {
      context.log(`read models: run ${run}/${runs}`)
      const schema = `bench_${run}`
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      reset.push(await projectorFromScratch(context, topic, postgres.url, schema, `bench-projector-${run}`, client))
      const config = await pgConfig(context, topic, postgres.url, `${schema}.accounts`, `${schema}-${run}`)
      const env = { ES_CONFIG: config }
      const rss = join(context.home, 'rss')
      const agreed = await timedEs(['diff', 'accounts'], { env, rss })
      check("es diff (the projector's table)", agreed)
      diff.push(agreed)
      replay.push(
        check('es replay', await timedEs(['replay', '--from-beginning', '--projection', 'accounts'], { env })),
      )
      const rebuilt = await timedEs(['rebuild-projection', 'accounts', '--yes'], { env, rss })
      check('es rebuild-projection', rebuilt)
      rebuild.push(rebuilt)
      check("es diff (es's table)", await timedEs(['diff', 'accounts'], { env }))
    }
    const m = {
      reset: median(reset),
      rebuild: median(rebuild.map((t) => t.ms)),
      diff: median(diff.map((t) => t.ms)),
      replay: median(replay),
    }
    const rebuildPeak = Math.max(...rebuild.map((t) => t.peakRssMb ?? 0))
    const diffPeak = Math.max(...diff.map((t) => t.peakRssMb ?? 0))
    const rows: Row[] = [
      [
        `rebuild accounts (${events.toLocaleString('en-US')} events, ${aggregates.toLocaleString('en-US')} rows, PostgreSQL)`,
        `projector reset ${fmt(m.reset)}`,
        `${fmt(m.rebuild)}, ${mb(rebuildPeak)}`,
        `${(m.reset / m.rebuild).toFixed(1)}× faster`,
        '≥ 10× faster',
      ],
      [
        `diff accounts (${aggregates.toLocaleString('en-US')} aggregates, PostgreSQL)`,
        `es replay ${fmt(m.replay)}`,
        `${fmt(m.diff)}, ${mb(diffPeak)}`,
        `${(m.diff / m.replay).toFixed(2)}× replay's time`,
        '≤ 1.5×',
      ],
    ]
    const results: Record<string, unknown> = {
      rebuild: { es: m.rebuild, projectorReset: m.reset, ratio: m.reset / m.rebuild, peakRssMb: rebuildPeak },
      diff: { es: m.diff, replay: m.replay, ratio: m.diff / m.replay, peakRssMb: diffPeak },
    }
    if (context.scale) {
      const scale = await atScale(context, postgres.url, client)
      rows.push([
        `rebuild and diff ${(scale.aggregates / 1e6).toFixed(0)}M aggregates (${(scale.events / 1e6).toFixed(0)}M events)`,
        '',
        `rebuild ${fmt(scale.rebuildMs)}, ${mb(scale.rebuildPeakRssMb)}; diff ${fmt(scale.diffMs)}, ${mb(scale.diffPeakRssMb)}`,
        '',
        '≤ 500 MB each',
      ])
      results.scale = scale
    }
    return { rows, results }
  } finally {
    await client.end()
  }
}

/** A config for the bench topic whose `accounts` projection writes `table` in PostgreSQL. */
async function pgConfig(context: BenchContext, topic: string, url: string, table: string, name: string) {
  const file = join(context.home, `${name}.config.json`)
  await writeFile(
    file,
    JSON.stringify({
      brokers: context.brokers,
      services: {
        bench: {
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
          projections: { accounts: { reducer: bankReducer, readModel: { type: 'postgres', url, table } } },
        },
      },
    }),
  )
  return file
}

/**
 * What operators do today: the sample projector on an empty read model with a new group, from the
 * earliest offsets; ms from its start until the offsets it stores reach the topic's end.
 */
async function projectorFromScratch(
  context: BenchContext,
  topic: string,
  url: string,
  schema: string,
  group: string,
  client: pg.Client,
): Promise<number> {
  const started = Date.now()
  const child = spawn(
    process.execPath,
    [
      projectorBin,
      '--brokers',
      context.brokers,
      '--events-topic',
      topic,
      '--snapshots-topic',
      `${topic}.snapshots-${schema}`,
      '--group',
      group,
      '--read-model',
      url,
      '--schema',
      schema,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the projector exited ${child.exitCode}: ${stderr}`)
      const stored = await client
        .query(`SELECT coalesce(sum(next_offset), 0)::bigint AS n FROM ${schema}.projector_offsets`)
        .then((r) => Number(r.rows[0].n))
        .catch(() => 0)
      if (stored >= (await topicEnd(context, topic))) return Date.now() - started
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  }
}

const ends = new Map<string, number>()

/** The sum of the topic's end offsets (fixed: the bench topics are not written to again). */
async function topicEnd(context: BenchContext, topic: string): Promise<number> {
  const known = ends.get(topic)
  if (known !== undefined) return known
  const kafkajs = (await import('kafkajs')).default
  const admin = new kafkajs.Kafka({ brokers: [context.brokers], logLevel: kafkajs.logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const total = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0)
    ends.set(topic, total)
    return total
  } finally {
    await admin.disconnect()
  }
}

/** 20M events over 10M aggregates: a rebuild into PostgreSQL and a diff, each once, with peak RSS. */
async function atScale(context: BenchContext, url: string, client: pg.Client) {
  const events = 20_000_000
  const aggregates = 10_000_000
  const topic = await context.bankTopic(events, aggregates)
  const schema = 'bench_scale'
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.query(`CREATE SCHEMA ${schema}`)
  await client.query(
    `CREATE TABLE ${schema}.accounts (id TEXT PRIMARY KEY, owner TEXT, balance NUMERIC NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL)`,
  )
  const env = { ES_CONFIG: await pgConfig(context, topic, url, `${schema}.accounts`, 'scale') }
  const rss = join(context.home, 'rss')
  context.log('read models at scale: rebuild')
  const rebuild = await timedEs(['rebuild-projection', 'accounts', '--yes'], { env, rss })
  check('es rebuild-projection at scale', rebuild)
  context.log('read models at scale: diff')
  const diff = await timedEs(['diff', 'accounts'], { env, rss })
  check('es diff at scale', diff)
  return {
    events,
    aggregates,
    rebuildMs: rebuild.ms,
    rebuildPeakRssMb: rebuild.peakRssMb ?? 0,
    diffMs: diff.ms,
    diffPeakRssMb: diff.peakRssMb ?? 0,
  }
}
