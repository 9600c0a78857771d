/**
 * Avro decode speed on a 1M-record topic (not a test: nothing is asserted; figures for direction,
 * the machine is shared). Starts its own broker, writes N single-object Avro records (written with
 * avsc, framed by hand), then measures, alternating rounds:
 *   - `decode`: the avro-single-object codec alone over every value read (in process, one core);
 *   - `replay`: `es replay --reducer count --from-beginning --json` through the real binary.
 *
 *   flock /tmp/es-broker.lock node dist/test/bench/avro-decode.js [--records 1000000] [--rounds 3]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import avro from 'avsc'
import { Kafka, logLevel } from 'kafkajs'
import { parsingFingerprint64 } from '../../src/codecs/avro/avro-schema.js'
import { createCodec } from '../../src/codecs/create-codec.js'
import { KafkaLogReader } from '../../src/kafka/kafka-log-reader.js'
import { freePort, startBroker, stopBroker } from '../../src/local/broker.js'

const { values } = parseArgs({
  options: { records: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } },
})
const records = Number(values.records)
const rounds = Number(values.rounds)
const esBin = join(dirname(fileURLToPath(import.meta.url)), '../../../bin/run.js')

const schema = {
  type: 'record',
  name: 'AccountEvent',
  namespace: 'bench',
  fields: [
    { name: 'type', type: { type: 'enum', name: 'Kind', symbols: ['Opened', 'Deposited', 'Withdrawn'] } },
    { name: 'accountId', type: 'string' },
    { name: 'amount', type: 'int' },
    { name: 'balance', type: 'long' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function load(brokers: string, topic: string): Promise<void> {
  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 4 }] })
  await admin.disconnect()
  const type = avro.Type.forSchema(schema as avro.Schema)
  const header = Buffer.alloc(10)
  header[0] = 0xc3
  header[1] = 0x01
  header.writeBigUInt64LE(parsingFingerprint64(JSON.stringify(schema)), 2)
  const producer = kafka.producer()
  await producer.connect()
  const kinds = ['Opened', 'Deposited', 'Withdrawn']
  for (let i = 0; i < records; i += 10_000) {
    const messages = []
    for (let j = i; j < Math.min(records, i + 10_000); j++) {
      const datum = type.toBuffer({
        type: kinds[j % 3],
        accountId: `acct-${j % 100_000}`,
        amount: j % 1000,
        balance: j * 7,
        at: 1_764_000_000_000 + j,
        note: j % 5 === 0 ? 'note' : null,
      })
      messages.push({ key: `acct-${j % 100_000}`, value: Buffer.concat([header, datum]) })
    }
    await producer.send({ topic, messages })
  }
  await producer.disconnect()
}

async function decodeRound(brokers: string, topic: string, schemaFile: string): Promise<number> {
  const codec = await createCodec({ type: 'avro-single-object', schemas: [schemaFile] })
  const reader = new KafkaLogReader({
    brokers: [brokers],
    clientId: 'es-bench',
    connectionTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  })
  const values: Buffer[] = []
  try {
    const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
    for await (const batch of reader.read(ranges))
      for (const record of batch.records) values.push(record.value as Buffer)
  } finally {
    await reader.close()
  }
  const started = process.hrtime.bigint()
  for (const value of values) codec.decode(value)
  return Number(process.hrtime.bigint() - started) / 1e6
}

function replayRound(config: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(
      process.execPath,
      [esBin, 'replay', '--config', config, '--from-beginning', '--reducer', 'count', '--json'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NO_COLOR: '1' },
      },
    )
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`es replay exited ${code}`))
      const events = (JSON.parse(out) as { events: number }).events
      if (events !== records) return reject(new Error(`es replay folded ${events} events, not ${records}`))
      resolve(Date.now() - started)
    })
  })
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'es-bench-avro-'))
  const port = await freePort()
  const brokers = `127.0.0.1:${port}`
  const topic = 'bench.avro'
  try {
    await startBroker({ port, home })
    const schemaFile = join(home, 'AccountEvent.avsc')
    await writeFile(schemaFile, JSON.stringify(schema))
    const config = join(home, 'es.config.yaml')
    await writeFile(
      config,
      [
        `brokers: ${brokers}`,
        'services:',
        '  bench:',
        `    streams: { events: ${topic} }`,
        `    codec: { key: string, value: { type: avro-single-object, schemas: [${schemaFile}] } }`,
        '    envelope: { type: $.type, payload: $ }',
        '',
      ].join('\n'),
    )
    const loadStarted = Date.now()
    await load(brokers, topic)
    process.stderr.write(`loaded ${records} records in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s\n`)
    const decode: number[] = []
    const replay: number[] = []
    for (let round = 0; round < rounds; round++) {
      decode.push(await decodeRound(brokers, topic, schemaFile))
      replay.push(await replayRound(config))
      process.stderr.write(`round ${round + 1}: decode ${decode.at(-1)?.toFixed(0)} ms, replay ${replay.at(-1)} ms\n`)
    }
    const result = {
      records,
      decodeMs: median(decode),
      decodeRecordsPerSecond: Math.round(records / (median(decode) / 1000)),
      replayMs: median(replay),
      replayEventsPerSecond: Math.round(records / (median(replay) / 1000)),
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    await stopBroker({ port, home })
    await rm(home, { recursive: true, force: true })
  }
}

await main()
