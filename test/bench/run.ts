/**
 * `npm run bench`: es against reference tools on the same broker, in one run. Starts a throw-away
 * broker, loads the sample bank service's events with its load generator (each topic once), runs
 * the sections, prints one table of medians and ratios with their targets, and writes
 * bench-results.json. Not part of the tests: nothing here asserts on timings.
 *
 *   npm run bench                                   every section
 *   npm run bench -- --only read-path,state-scale   some sections
 *   npm run bench -- --scale                        also the long runs (10M events / 5M aggregates)
 *   options: --rounds 5 (read path), --runs 2 (each size of the scale sections)
 *
 * Sections:
 *   read-path    replay (in memory) vs kcat's dump; tail first record, one command, start-up vs node -e 0
 *   state-scale  replays of 1M/3M/6M events in memory and file-backed: time, peak RSS, µs/event
 *   send-batch   es send-command --batch of --events bank commands vs kcat -P of the same encoded records
 *   read-models  rebuild into PostgreSQL vs resetting the sample projector; diff vs replay; --scale: 10M aggregates
 *   whole-topics tail -e -o ndjson of 1.5M records (--dump-events) vs kcat; snapshots of 300k keys × 3 (--scale: 1M)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, startBroker, stopBroker } from '../../src/local/broker.js'
import { readModels } from './read-models.js'
import { readPath } from './read-path.js'
import { sendBatch } from './send-batch.js'
import { stateScale } from './state-scale.js'
import {
  type BenchContext,
  bankReducer,
  ensureKcat,
  fmt,
  kcatVersion,
  loadBankEvents,
  type Row,
  root,
  type SectionResult,
} from './support.js'
import { wholeTopics } from './whole-topics.js'

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    scale: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '2' },
    events: { type: 'string', default: '1000000' },
    aggregates: { type: 'string', default: '100000' },
    'dump-events': { type: 'string', default: '1500000' },
  },
})
const rounds = Number(values.rounds)
const runs = Number(values.runs)
const events = Number(values.events)
const aggregates = Number(values.aggregates)

const sections: Record<string, (context: BenchContext) => Promise<SectionResult>> = {
  'read-path': (context) => readPath(context, events, aggregates),
  'state-scale': (context) => stateScale(context, runs),
  'read-models': (context) => readModels(context, runs, events, aggregates),
  'send-batch': (context) => sendBatch(context, events, aggregates),
  'whole-topics': (context) => wholeTopics(context, Number(values['dump-events'])),
}
const chosen = values.only ? values.only.split(',') : Object.keys(sections)
for (const name of chosen) {
  if (!sections[name]) throw new Error(`unknown section ${name}; sections: ${Object.keys(sections).join(', ')}`)
}

async function main(): Promise<void> {
  ensureKcat()
  const home = await mkdtemp(join(tmpdir(), 'es-bench-'))
  const port = await freePort()
  const brokers = `127.0.0.1:${port}`
  const log = (line: string) => process.stderr.write(`${line}\n`)
  const loaded = new Map<string, Promise<string>>()
  const context: BenchContext = {
    brokers,
    home,
    rounds,
    scale: values.scale ?? false,
    log,
    bankTopic(eventCount, aggregateCount) {
      const topic = `bench-${eventCount}-${aggregateCount}.events`
      let load = loaded.get(topic)
      if (!load) {
        load = loadBankEvents(brokers, topic, eventCount, aggregateCount).then((timing) => {
          log(`loaded ${eventCount.toLocaleString('en-US')} events into ${topic} in ${fmt(timing.ms)}`)
          return topic
        })
        loaded.set(topic, load)
      }
      return load
    },
    async bankConfig(topic) {
      const file = join(home, `${topic}.config.yaml`)
      await writeFile(
        file,
        [
          `brokers: ${brokers}`,
          'services:',
          '  bench:',
          `    streams: { commands: ${topic}.commands, events: ${topic}, snapshots: ${topic}.snapshots }`,
          '    codec: { key: string, value: json }',
          '    envelope: { type: $.type, id: $.id, causationId: $.causationId, aggregateId: key, version: $.version, timestamp: $.timestamp, payload: $.data }',
          '    commands:',
          '      DepositFunds:',
          '        schema: { type: object, required: [amount], properties: { amount: { type: number, exclusiveMinimum: 0 } } }',
          '    projections:',
          `      accounts: { reducer: ${bankReducer} }`,
          '',
        ].join('\n'),
      )
      return file
    },
  }
  const results: Record<string, unknown> = { date: new Date().toISOString(), kcat: kcatVersion(), rounds, runs }
  const rows: Row[] = []
  try {
    log(`starting a broker on ${brokers}…`)
    await startBroker({ port, home })
    for (const name of chosen) {
      const section = await sections[name](context)
      rows.push(...section.rows)
      Object.assign(results, section.results)
    }
  } finally {
    await stopBroker({ port, home }).catch(() => {})
    await rm(home, { recursive: true, force: true })
  }
  const header: Row = ['measure', 'reference (median)', 'es (median)', 'ratio', 'target']
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)))
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')
  process.stdout.write(
    `\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
  )
  process.stdout.write(
    `\nread path: ${rounds} rounds of ${events.toLocaleString('en-US')} events over ${aggregates.toLocaleString('en-US')} aggregates, 4 partitions; scale sections: ${runs} runs per size, peak RSS the highest of them; kcat ${results.kcat}\n`,
  )
  await writeFile(join(root, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`)
}

await main()
