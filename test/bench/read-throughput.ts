/**
 * How fast the log reader reads a whole topic, against kcat's raw dump of the same topic (not a
 * test: nothing is asserted). Expects a broker with the topic already loaded, e.g.
 *
 *   node bin/run.js local start --port 19092
 *   node dist/test/bench/read-throughput.js --brokers 127.0.0.1:19092 --topic bench1m --load 1000000 --runs 3
 *
 * `--load N` first produces N JSON records of ~200 bytes over 4 partitions with kcat if the topic
 * does not exist yet.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { KafkaLogReader } from '../../src/kafka/kafka-log-reader.js'

const { values } = parseArgs({
  options: {
    brokers: { type: 'string', default: '127.0.0.1:19092' },
    topic: { type: 'string', default: 'bench1m' },
    load: { type: 'string' },
    partitions: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    'max-bytes': { type: 'string' },
    'partition-max-bytes': { type: 'string' },
  },
})
const brokers = values.brokers
const topic = values.topic

const connection = {
  brokers: brokers.split(','),
  clientId: 'es-bench',
  connectionTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
}

async function ensureLoaded(): Promise<void> {
  if (values.load === undefined) return
  const reader = new KafkaLogReader(connection)
  try {
    const existing = await reader.topics()
    if (existing.includes(topic)) return
  } finally {
    await reader.close()
  }
  const count = Number(values.load)
  const partitions = Number(values.partitions)
  execFileSync('kcat', ['-b', brokers, '-L'], { stdio: 'ignore' })
  const { Kafka, logLevel } = await import('kafkajs')
  const admin = new Kafka({ brokers: connection.brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] })
  await admin.disconnect()
  const producer = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-X', 'linger.ms=50'], {
    stdio: ['pipe', 'inherit', 'inherit'],
  })
  let chunk = ''
  for (let i = 0; i < count; i++) {
    const aggregateId = `acct-${i % 100_000}`
    const event = {
      type: 'FundsDeposited',
      id: `e${i.toString(36).padStart(8, '0')}`,
      aggregateId,
      version: Math.floor(i / 100_000),
      timestamp: new Date(1_714_557_600_000 + i).toISOString(),
      data: { amount: i % 997, currency: 'EUR', note: 'x'.repeat(40) },
    }
    chunk += `${aggregateId}\t${JSON.stringify(event)}\n`
    if (chunk.length > 1_000_000) {
      if (!producer.stdin.write(chunk)) await new Promise((resolve) => producer.stdin.once('drain', resolve))
      chunk = ''
    }
  }
  producer.stdin.end(chunk)
  await new Promise((resolve) => producer.on('exit', resolve))
}

async function readAll(): Promise<{ records: number; ms: number; cpuMs: number }> {
  const reader = new KafkaLogReader(connection, {
    ...(values['max-bytes'] ? { maxBytes: Number(values['max-bytes']) } : {}),
    ...(values['partition-max-bytes'] ? { partitionMaxBytes: Number(values['partition-max-bytes']) } : {}),
  })
  const started = performance.now()
  const cpu = process.cpuUsage()
  const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
  let records = 0
  let bytes = 0
  for await (const batch of reader.read(ranges)) {
    records += batch.records.length
    for (const record of batch.records) bytes += record.value?.length ?? 0
  }
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  await reader.close()
  if (bytes === 0 && records > 0) throw new Error('no bytes read')
  return { records, ms, cpuMs: (used.user + used.system) / 1000 }
}

function kcatAll(): { records: number; ms: number } {
  const started = performance.now()
  const result = spawnSync('sh', ['-c', `kcat -C -b ${brokers} -t ${topic} -o beginning -e -q > /dev/null`])
  const ms = performance.now() - started
  if (result.status !== 0) throw new Error(`kcat failed: ${result.stderr}`)
  return { records: Number.NaN, ms }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

await ensureLoaded()
const ours: number[] = []
const theirs: number[] = []
let total = 0
for (let run = 0; run < Number(values.runs); run++) {
  const kcat = kcatAll()
  const es = await readAll()
  total = es.records
  theirs.push(kcat.ms)
  ours.push(es.ms)
  process.stdout.write(
    `run ${run + 1}: es ${es.records} records in ${es.ms.toFixed(0)} ms (${Math.round(es.records / (es.ms / 1000))}/s, ` +
      `CPU ${es.cpuMs.toFixed(0)} ms), ` +
      `kcat ${kcat.ms.toFixed(0)} ms (${Math.round(es.records / (kcat.ms / 1000))}/s)\n`,
  )
}
const esRate = total / (median(ours) / 1000)
const kcatRate = total / (median(theirs) / 1000)
process.stdout.write(
  `median: es ${Math.round(esRate)} records/s, kcat ${Math.round(kcatRate)} records/s, es/kcat ${(esRate / kcatRate).toFixed(2)}; ` +
    `peak RSS of this process ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`,
)
