/**
 * Whole topics (the whole-topics issue): dumping a topic with `es tail -e -o ndjson` against
 * `kcat -C -e` (medians of up to 3 rounds, es's highest peak RSS), and a compacted topic of
 * `keys` keys × 3 versions through `es snapshots --json` and the table, against kcat's dump of it
 * (one run each). Records: the bank's events for the dump; JSON states written by kcat for the
 * snapshots. `--scale`: 1M keys.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { type BenchContext, check, fmt, kcatDump, mb, median, rate, type SectionResult, timedEs } from './support.js'

export async function wholeTopics(context: BenchContext, dumpEvents: number): Promise<SectionResult> {
  const { brokers, home } = context
  const rounds = Math.min(context.rounds, 3)

  const topic = await context.bankTopic(dumpEvents, Math.max(1, Math.floor(dumpEvents / 10)))
  const kcatMs: number[] = []
  const esMs: number[] = []
  let esRss = 0
  for (let round = 1; round <= rounds; round++) {
    context.log(`whole topics: dump round ${round}/${rounds}`)
    kcatMs.push(check('kcat -C -e', await kcatDump(brokers, topic)))
    const es = await timedEs(['tail', topic, '--brokers', brokers, '-e', '-o', 'ndjson'], {
      rss: join(home, 'dump.rss'),
    })
    esMs.push(check('es tail -e -o ndjson', es))
    esRss = Math.max(esRss, es.peakRssMb ?? 0)
  }
  const dumpKcat = median(kcatMs)
  const dumpEs = median(esMs)

  const keys = context.scale ? 1_000_000 : 300_000
  const snapshots = `bench-snapshots-${keys}`
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: snapshots, numPartitions: 4, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    })
  } finally {
    await admin.disconnect()
  }
  const input = join(home, 'snapshots.txt')
  const out = createWriteStream(input)
  for (let version = 1; version <= 3; version++) {
    for (let i = 0; i < keys; i++) {
      const line = `acc-${i}:{"id":"acc-${i}","owner":"owner ${i % 977}","balance":${(i * version) % 10_000},"version":${version},"updatedAt":"2026-11-0${version}T10:00:00.000Z"}\n`
      if (!out.write(line)) await once(out, 'drain')
    }
  }
  out.end()
  await once(out, 'close')
  context.log(`whole topics: producing ${keys.toLocaleString('en-US')} keys × 3 versions with kcat…`)
  const produce = spawn('kcat', ['-P', '-b', brokers, '-t', snapshots, '-K:', '-l', input], { stdio: 'inherit' })
  const [code] = await once(produce, 'exit')
  if (code !== 0) throw new Error(`kcat -P exited ${code}`)

  context.log('whole topics: snapshots…')
  const snapKcat = check('kcat -C -e (snapshots)', await kcatDump(brokers, snapshots))
  const json = await timedEs(['snapshots', '--topic', snapshots, '--brokers', brokers, '--json'], {
    rss: join(home, 'snap-json.rss'),
  })
  const snapJson = check('es snapshots --json', json)
  const table = await timedEs(['snapshots', '--topic', snapshots, '--brokers', brokers], {
    rss: join(home, 'snap-table.rss'),
  })
  const snapTable = check('es snapshots (table)', table)

  const n = dumpEvents.toLocaleString('en-US')
  const k = keys.toLocaleString('en-US')
  return {
    rows: [
      [
        `tail -e -o ndjson of ${n} records`,
        `kcat -C -e ${fmt(dumpKcat)} (${rate(dumpEvents, dumpKcat)})`,
        `${fmt(dumpEs)} (${rate(dumpEvents, dumpEs)}), peak RSS ${mb(esRss)}`,
        `${(dumpKcat / dumpEs).toFixed(2)}× kcat's throughput`,
        '≥ 0.5×, ≤ 200 MB',
      ],
      [
        `snapshots --json, ${k} keys × 3 versions`,
        `kcat -C -e ${fmt(snapKcat)}`,
        `${fmt(snapJson)}, peak RSS ${mb(json.peakRssMb ?? 0)}`,
        `${(snapJson / snapKcat).toFixed(1)}× kcat's time`,
        '≤ 3×, ≤ 500 MB',
      ],
      [
        'snapshots table, same topic',
        `--json ${fmt(snapJson)}`,
        `${fmt(snapTable)}, peak RSS ${mb(table.peakRssMb ?? 0)}`,
        `${(snapTable / snapJson).toFixed(2)}× --json`,
        '≤ 2×',
      ],
    ],
    results: {
      wholeTopics: {
        dump: { records: dumpEvents, kcatMs: dumpKcat, esMs: dumpEs, ratio: dumpKcat / dumpEs, peakRssMb: esRss },
        snapshots: {
          keys,
          versions: 3,
          kcatMs: snapKcat,
          jsonMs: snapJson,
          jsonPeakRssMb: json.peakRssMb,
          tableMs: snapTable,
          tablePeakRssMb: table.peakRssMb,
        },
      },
    },
  }
}
