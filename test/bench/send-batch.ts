/**
 * Many commands from one process: `es send-command --batch <file>` of `count` bank commands
 * (DepositFunds over `aggregates` accounts: validated, encoded, produced on the idempotent
 * producer) against `kcat -P` of exactly the records es produced (read back with kcat: already
 * encoded), to a topic of the same partitions. One run; es's peak RSS shows the memory bound.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { type BenchContext, check, fmt, mb, rate, type SectionResult, timed, timedEs } from './support.js'

const PARTITIONS = 4

export async function sendBatch(context: BenchContext, count: number, aggregates: number): Promise<SectionResult> {
  const { brokers, home } = context
  const config = await context.bankConfig(await context.bankTopic(1000, 100))
  const esTopic = `bench-send-batch-${count}.es`
  const kcatTopic = `bench-send-batch-${count}.kcat`
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [esTopic, kcatTopic].map((topic) => ({ topic, numPartitions: PARTITIONS })),
    })
  } finally {
    await admin.disconnect()
  }

  const commands = join(home, 'commands.ndjson')
  await writeLines(commands, count, (i) =>
    JSON.stringify({ type: 'DepositFunds', key: `acc-${i % aggregates}`, data: { amount: 1 + (i % 100) } }),
  )
  context.log(`send batch: es send-command --batch of ${count.toLocaleString('en-US')} commands…`)
  const esRun = await timedEs(['send-command', '--batch', commands, '--topic', esTopic, '--verbose'], {
    nodeArgs: process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [],
    env: { ES_CONFIG: config },
    rss: join(home, 'send-batch.rss'),
  })
  const esMs = check('es send-command --batch', esRun)
  // Where es's time went: its --verbose lines for the two passes.
  for (const line of esRun.stderr.split('\n')) if (line.includes('--batch:')) context.log(`send batch: ${line}`)

  // The same records, already encoded: what es produced, as key<TAB>value lines.
  const encoded = join(home, 'encoded.tsv')
  await dumpTo(encoded, ['-C', '-b', brokers, '-t', esTopic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'])
  context.log('send batch: kcat -P of the same records…')
  const kcatMs = check(
    'kcat -P',
    await timed('kcat', ['-P', '-b', brokers, '-t', kcatTopic, '-K', '\t', '-l', encoded]),
  )
  const ratio = kcatMs / esMs
  return {
    rows: [
      [
        `send ${count.toLocaleString('en-US')} commands (--batch)`,
        `kcat -P ${fmt(kcatMs)} (${rate(count, kcatMs)})`,
        `${fmt(esMs)} (${rate(count, esMs)}, peak RSS ${mb(esRun.peakRssMb ?? 0)})`,
        `${ratio.toFixed(2)}× kcat's throughput`,
        '≥ 100,000/s and ≥ 0.5×',
      ],
    ],
    results: {
      sendBatch: {
        es: esMs,
        reference: kcatMs,
        ratio,
        commands: count,
        commandsPerSecond: Math.round((count * 1000) / esMs),
        peakRssMb: esRun.peakRssMb,
      },
    },
  }
}

async function writeLines(file: string, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file)
  let chunk: string[] = []
  for (let i = 0; i < count; i++) {
    chunk.push(line(i))
    if (chunk.length === 10_000 || i === count - 1) {
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain')
      chunk = []
    }
  }
  out.end()
  await once(out, 'finish')
}

async function dumpTo(file: string, args: string[]): Promise<void> {
  const out = createWriteStream(file)
  const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const finished = once(out, 'finish')
  child.stdout.pipe(out)
  const [code] = await once(child, 'exit')
  await finished
  if (code !== 0) throw new Error(`kcat ${args.join(' ')} exited ${code}`)
}
