/**
 * The kafkajs log reader on the real broker started by test/run.ts: the LogReader contract, and
 * what only a real log shows — a producer writing during a bounded read, compaction gaps,
 * transactions as librdkafka (kcat) reads them, records written by kcat, unreachable brokers, and
 * the absence of any consumer-group traffic.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import type { KafkaConnection } from '../../src/config/types.js'
import { ExitCode, NotFoundError, UnreachableError } from '../../src/errors.js'
import { KafkaLogReader } from '../../src/kafka/kafka-log-reader.js'
import type { RecordBatch } from '../../src/kafka/log-reader.js'
import { freePort } from '../../src/local/broker.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import {
  collect,
  contractTopic,
  type LogFixture,
  logReaderContract,
  type ProducedRecord,
  positionsOf,
  recordsOf,
} from '../support/log-reader-contract.js'

const execFileAsync = promisify(execFile)

function connection(overrides: Partial<KafkaConnection> = {}): KafkaConnection {
  return {
    brokers: testBrokers().split(','),
    clientId: 'es-test-reader',
    connectionTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    ...overrides,
  }
}

function toMessages(records: ProducedRecord[]) {
  return records.map((r) => ({
    partition: r.partition,
    key: r.key,
    value: r.value,
    ...(r.headers ? { headers: r.headers } : {}),
    ...(r.timestamp === undefined ? {} : { timestamp: String(r.timestamp) }),
  }))
}

let sharedProducer: Promise<Producer> | undefined
function producer(): Promise<Producer> {
  sharedProducer ??= (async () => {
    const p = testKafka().producer({ allowAutoTopicCreation: false })
    await p.connect()
    return p
  })()
  return sharedProducer
}

async function produce(topic: string, records: ProducedRecord[]): Promise<void> {
  await (await producer()).send({ topic, acks: -1, messages: toMessages(records) })
}

after(async () => {
  if (sharedProducer) await (await sharedProducer).disconnect()
})

logReaderContract('KafkaLogReader (kafkajs 2.2.4, no consumer group)', async () => {
  const reader = new KafkaLogReader(connection())
  const fixture: LogFixture = {
    reader,
    createTopic: (topic, partitions) => createTopic(topic, partitions),
    produce,
    beginTransaction: async (topic, records) => {
      const transactional = testKafka().producer({
        transactionalId: contractTopic('es-test-tx'),
        idempotent: true,
        maxInFlightRequests: 1,
      })
      await transactional.connect()
      const transaction = await transactional.transaction()
      const sent = await transaction.send({ topic, acks: -1, messages: toMessages(records) })
      const end = async (outcome: 'commit' | 'abort') => {
        await transaction[outcome]()
        await transactional.disconnect()
        await untilStable(reader, topic, lastOffsets(sent, records))
      }
      return { commit: () => end('commit'), abort: () => end('abort') }
    },
    close: () => reader.close(),
  }
  return fixture
})

/** The offset of the last record per partition, from a send's result. */
function lastOffsets(
  sent: Array<{ partition: number; baseOffset?: string }>,
  records: Array<{ partition: number }>,
): Map<number, number> {
  const last = new Map<number, number>()
  for (const { partition, baseOffset } of sent) {
    const count = records.filter((r) => r.partition === partition).length
    last.set(partition, Number(baseOffset) + count - 1)
  }
  return last
}

/**
 * Waits until the last stable offset of each partition passes its given offset. A transaction's
 * commit returns before the coordinator has written its markers: until then the last stable
 * offset stays at the transaction's first offset, and read-committed readers (ours, kcat's) stop
 * there.
 */
async function untilStable(reader: KafkaLogReader, topic: string, offsets: Map<number, number>): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const marks = await reader.watermarks(topic)
    if ([...offsets].every(([partition, offset]) => (marks.find((m) => m.partition === partition)?.end ?? 0) > offset))
      return
    assert.ok(Date.now() < deadline, `transaction markers of ${topic} not written within 30 s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** kcat's view of a topic (librdkafka, read committed by default): `partition offset key value` per line. */
async function kcatDump(topic: string): Promise<string[]> {
  const { stdout } = await execFileAsync(
    'kcat',
    ['-C', '-b', testBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %k %s\\n'],
    { maxBuffer: 64 * 1024 * 1024 },
  )
  return stdout.split('\n').filter(Boolean).sort()
}

function dumpOf(batches: RecordBatch[]): string[] {
  return recordsOf(batches)
    .map((r) => `${r.partition} ${r.offset} ${r.key?.toString() ?? ''} ${r.value?.toString() ?? ''}`)
    .sort()
}

describe('KafkaLogReader on a real broker', () => {
  it('stops exactly at the ends fixed at start while a producer keeps writing', async () => {
    const topic = uniqueTopic('reader-moving')
    await createTopic(topic, 4)
    const initial = Array.from({ length: 20_000 }, (_, i) => ({
      partition: i % 4,
      key: `k${i}`,
      value: `initial-${i}-${'x'.repeat(150)}`,
    }))
    for (let i = 0; i < initial.length; i += 2000) await produce(topic, initial.slice(i, i + 2000))

    const reader = new KafkaLogReader(connection())
    let writing = true
    let written = 0
    const writer = (async () => {
      while (writing) {
        await produce(
          topic,
          Array.from({ length: 200 }, (_, i) => ({ partition: i % 4, key: `late${i}`, value: `late-${written + i}` })),
        )
        written += 200
      }
    })()
    try {
      while (written < 1000) await new Promise((resolve) => setTimeout(resolve, 20))
      const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
      const batches = await collect(reader, ranges)
      const writtenBeforeStop = written
      writing = false
      await writer
      const records = recordsOf(batches)
      for (const range of ranges) {
        const mine = records.filter((r) => r.partition === range.partition)
        assert.deepEqual(
          mine.map((r) => r.offset),
          Array.from({ length: (range.end ?? 0) - range.start }, (_, i) => range.start + i),
          `partition ${range.partition}: every offset below the end, none at or after it`,
        )
        assert.equal(positionsOf(batches).get(`${topic}/${range.partition}`), range.end)
      }
      const now = await reader.watermarks(topic)
      assert.ok(
        now.some((mark) => mark.end > (ranges.find((r) => r.partition === mark.partition)?.end ?? 0)),
        `the producer wrote past the fixed ends while reading (${writtenBeforeStop} late records)`,
      )
    } finally {
      writing = false
      await writer
      await reader.close()
    }
  })

  it('asks little of the first fetch (the first records come without a full fetch), then reads on at full size', async () => {
    const topic = uniqueTopic('reader-first-fetch')
    await createTopic(topic, 1)
    // 2 MiB of 200-byte values in batches of 100 records (~20 KiB each).
    const records = Array.from({ length: 10_000 }, (_, i) => ({
      partition: 0,
      key: `k${i}`,
      value: `${i}-${'x'.repeat(200)}`.slice(0, 200),
    }))
    for (let i = 0; i < records.length; i += 100) await produce(topic, records.slice(i, i + 100))
    const reader = new KafkaLogReader(connection())
    try {
      const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
      const batches = await collect(reader, ranges)
      // 64 KiB and one batch past it at most: ≈ 430 records (1 MiB, the partition's default, is ≈ 5,000).
      assert.ok(batches[0].records.length <= 500, `first fetch: ${batches[0].records.length} records`)
      assert.ok(batches.length < 20, `${batches.length} fetches for 2 MiB: the fetches grew`)
      assert.deepEqual(
        recordsOf(batches).map((r) => r.offset),
        records.map((_, i) => i),
        'every offset once, in order',
      )
    } finally {
      await reader.close()
    }
  })

  it('reads a compacted topic across offset gaps like kcat does', async () => {
    const topic = uniqueTopic('reader-compacted')
    await createTopic(topic, 1, [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'segment.ms', value: '100' },
      { name: 'min.cleanable.dirty.ratio', value: '0.01' },
      { name: 'delete.retention.ms', value: '100' },
    ])
    const keys = 30
    const rounds = 4
    for (let round = 0; round < rounds; round++) {
      // Round 0 interleaves keys written once, so the superseded records leave gaps between kept ones.
      await produce(
        topic,
        Array.from({ length: keys }, (_, k) => [
          ...(round === 0 ? [{ partition: 0, key: `once-${k}`, value: 'once' }] : []),
          { partition: 0, key: `key-${k}`, value: `round-${round}` },
        ]).flat(),
      )
      // segment.ms: the next append after 100 ms rolls a new segment, so earlier ones can be cleaned.
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const reader = new KafkaLogReader(connection())
    try {
      let batches: RecordBatch[] = []
      const deadline = Date.now() + 90_000
      for (;;) {
        // Each roll needs an append; the cleaner then compacts every closed segment.
        await produce(topic, [{ partition: 0, key: 'roll', value: String(Date.now()) }])
        const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
        batches = await collect(reader, ranges)
        const rounds0to2 = recordsOf(batches).filter((r) => /^round-[0-2]$/.test(r.value?.toString() ?? ''))
        if (rounds0to2.length === 0) break
        assert.ok(Date.now() < deadline, 'the log cleaner did not compact the topic within 90 s')
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      const records = recordsOf(batches)
      const offsets = records.map((r) => r.offset)
      assert.ok(
        offsets.some((offset, i) => i > 0 && offset > offsets[i - 1] + 1),
        'compaction left gaps',
      )
      for (let k = 0; k < keys; k++) {
        assert.deepEqual(
          records.filter((r) => r.key?.toString() === `key-${k}`).map((r) => r.value?.toString()),
          [`round-${rounds - 1}`],
        )
        assert.deepEqual(
          records.filter((r) => r.key?.toString() === `once-${k}`).map((r) => r.offset),
          [2 * k],
        )
      }
      const [marks] = await reader.watermarks(topic)
      assert.equal(positionsOf(batches).get(`${topic}/0`), marks.end)

      // Independent check: librdkafka sees exactly these offsets, keys and values. The cleaner may
      // still be compacting the "roll" records between two reads: compare reads taken with none
      // between them changing (es, kcat, es again), a few times at most.
      let ours = dumpOf(batches)
      let theirs = await kcatDump(topic)
      for (let attempt = 0; attempt < 10; attempt++) {
        const again = dumpOf(
          await collect(
            reader,
            await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } }),
          ),
        )
        if (JSON.stringify(again) === JSON.stringify(ours) && JSON.stringify(ours) === JSON.stringify(theirs)) break
        ours = again
        theirs = await kcatDump(topic)
      }
      assert.deepEqual(ours, theirs)

      // A start inside a gap continues at the next record that exists.
      const gap = offsets.findIndex((offset, i) => i > 0 && offset > offsets[i - 1] + 1)
      const inGap = offsets[gap - 1] + 1
      // The cleaner may compact "roll" records between the reads: compare the others.
      const notRoll = (r: { key: Buffer | null }) => r.key?.toString() !== 'roll'
      const fromGap = recordsOf(await collect(reader, [{ topic, partition: 0, start: inGap, end: marks.end }]))
        .filter(notRoll)
        .map((r) => r.offset)
      assert.deepEqual(
        fromGap,
        records
          .slice(gap)
          .filter(notRoll)
          .map((r) => r.offset),
      )
    } finally {
      await reader.close()
    }
  })

  it('skips aborted transactions exactly as librdkafka (kcat) does', async () => {
    const topic = uniqueTopic('reader-transactions')
    await createTopic(topic, 3)
    const kafka = testKafka()
    const transactional = kafka.producer({
      transactionalId: uniqueTopic('es-test-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    })
    await transactional.connect()
    const last = new Map<number, number>()
    try {
      for (let round = 0; round < 12; round++) {
        const transaction = await transactional.transaction()
        const messages = Array.from({ length: 25 }, (_, i) => ({
          partition: (round + i) % 3,
          key: `r${round}-${i}`,
          value: `${round % 3 === 1 ? 'aborted' : 'committed'}-${round}-${i}`,
        }))
        const sent = await transaction.send({ topic, messages })
        for (const [partition, offset] of lastOffsets(sent, messages)) last.set(partition, offset)
        if (round % 3 === 1) await transaction.abort()
        else await transaction.commit()
        if (round % 4 === 0) await produce(topic, [{ partition: round % 3, key: 'plain', value: `plain-${round}` }])
      }
    } finally {
      await transactional.disconnect()
    }
    const reader = new KafkaLogReader(connection())
    try {
      await untilStable(reader, topic, last)
      const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
      const batches = await collect(reader, ranges)
      const values = recordsOf(batches).map((r) => r.value?.toString() ?? '')
      assert.equal(values.filter((v) => v.startsWith('committed')).length, 8 * 25)
      assert.equal(values.filter((v) => v.startsWith('plain')).length, 3)
      assert.ok(values.every((v) => !v.startsWith('aborted')))
      for (const range of ranges) assert.equal(positionsOf(batches).get(`${topic}/${range.partition}`), range.end)
      assert.deepEqual(dumpOf(batches), await kcatDump(topic))
    } finally {
      await reader.close()
    }
  })

  it('reads records produced by kcat key for key and offset for offset', async () => {
    const topic = uniqueTopic('reader-kcat')
    await createTopic(topic, 3)
    const lines = Array.from({ length: 500 }, (_, i) => `key-${i % 37}:{"n":${i},"text":"värde ${i}"}`)
    await new Promise<void>((resolve, reject) => {
      const kcat = spawn('kcat', ['-P', '-b', testBrokers(), '-t', topic, '-K:', '-H', 'source=kcat', '-H', 'k=v'], {
        stdio: ['pipe', 'ignore', 'pipe'],
      })
      let stderr = ''
      kcat.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      kcat.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${stderr}`))))
      kcat.stdin.end(`${lines.join('\n')}\n`)
    })
    const { stdout } = await execFileAsync('kcat', [
      '-C',
      '-b',
      testBrokers(),
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%p|%o|%k|%s|%h\\n',
    ])
    const expected = stdout.split('\n').filter(Boolean).sort()
    assert.equal(expected.length, 500)

    const reader = new KafkaLogReader(connection())
    try {
      const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
      const actual = recordsOf(await collect(reader, ranges))
        .map((r) => {
          const headers = Object.entries(r.headers)
            .map(([name, value]) => `${name}=${value?.toString() ?? ''}`)
            .join(',')
          return `${r.partition}|${r.offset}|${r.key?.toString()}|${r.value?.toString()}|${headers}`
        })
        .sort()
      assert.deepEqual(actual, expected)
    } finally {
      await reader.close()
    }
  })

  it('sends no consumer-group request at all', async () => {
    const topic = uniqueTopic('reader-groupless')
    await createTopic(topic, 2)
    await produce(topic, [
      { partition: 0, key: 'a', value: '1' },
      { partition: 1, key: 'b', value: '2' },
    ])
    const lines: string[] = []
    const reader = new KafkaLogReader(connection(), { debug: (line) => lines.push(line) })
    try {
      const bounded = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
      assert.equal(recordsOf(await collect(reader, bounded)).length, 2)
      const controller = new AbortController()
      const fromEnd = await reader.resolveRanges([topic], { from: { kind: 'end' } })
      const following = (async () => {
        for await (const batch of reader.read(fromEnd, { signal: controller.signal })) {
          if (batch.records.length > 0) controller.abort()
        }
      })()
      await produce(topic, [{ partition: 1, key: 'c', value: '3' }])
      await following
    } finally {
      await reader.close()
    }
    const apis = new Set(lines.flatMap((line) => /Request (\w+)\(key: \d+/.exec(line)?.[1] ?? []))
    assert.ok(apis.has('Fetch') && apis.has('ListOffsets') && apis.has('Metadata'), [...apis].join(', '))
    for (const groupApi of ['FindCoordinator', 'JoinGroup', 'SyncGroup', 'Heartbeat', 'OffsetCommit', 'OffsetFetch']) {
      assert.ok(!apis.has(groupApi), `${groupApi} was sent`)
    }
  })

  it('keeps kafkajs quiet: nothing on stdout or stderr', async () => {
    // A child process, so its own stdout and stderr can be checked whole.
    const script = `
      import { KafkaLogReader } from ${JSON.stringify(new URL('../../src/kafka/kafka-log-reader.js', import.meta.url).href)}
      const port = ${await freePort()}
      const reader = new KafkaLogReader({ brokers: ['127.0.0.1:' + port], clientId: 'quiet', connectionTimeoutMs: 1500, requestTimeoutMs: 3000 })
      try { await reader.topics() } catch (error) { process.exitCode = error.exitCode }
      const good = new KafkaLogReader({ brokers: ${JSON.stringify(testBrokers().split(','))}, clientId: 'quiet', connectionTimeoutMs: 10000, requestTimeoutMs: 30000 })
      await good.topics()
      await good.close()
    `
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, KAFKAJS_LOG_LEVEL: 'debug' },
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (chunk) => {
        out += chunk
      })
      child.stderr.on('data', (chunk) => {
        err += chunk
      })
      child.on('exit', (code) => resolve({ stdout: out, stderr: err, code }))
    })
    assert.equal(stdout, '')
    assert.equal(stderr, '')
  })

  describe('an unreachable broker', () => {
    let silent: Server | undefined
    after(() => silent?.close())

    it('fails with UnreachableError (exit 4) when nothing listens', async () => {
      const reader = new KafkaLogReader(
        connection({ brokers: [`127.0.0.1:${await freePort()}`], connectionTimeoutMs: 1500 }),
      )
      try {
        await assert.rejects(reader.topics(), (error: unknown) => {
          assert.ok(error instanceof UnreachableError, String(error))
          assert.equal(error.exitCode, ExitCode.unreachable)
          assert.match(error.message, /127\.0\.0\.1/)
          return true
        })
        await assert.rejects(
          (async () => {
            for await (const _ of reader.read([{ topic: 't', partition: 0, start: 0, end: 10 }])) {
              // nothing can arrive
            }
          })(),
          UnreachableError,
        )
      } finally {
        await reader.close()
      }
    })

    it('fails with UnreachableError when the broker accepts connections but never answers', {
      timeout: 30_000,
    }, async () => {
      silent = createServer(() => {})
      await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve))
      const address = silent.address()
      assert.ok(address && typeof address === 'object')
      const reader = new KafkaLogReader(
        connection({ brokers: [`127.0.0.1:${address.port}`], connectionTimeoutMs: 1500 }),
      )
      try {
        await assert.rejects(reader.watermarks('anything'), UnreachableError)
      } finally {
        await reader.close()
      }
    })
  })

  it('ends a follow with NotFoundError (exit 6) when its topic is deleted', async () => {
    const topic = uniqueTopic('reader-deleted')
    await createTopic(topic, 2)
    await produce(topic, [{ partition: 0, key: 'a', value: '1' }])
    const reader = new KafkaLogReader(connection())
    const admin = testKafka().admin()
    await admin.connect()
    try {
      const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' } })
      let seen = 0
      await assert.rejects(
        (async () => {
          for await (const batch of reader.read(ranges)) {
            seen += batch.records.length
            if (seen === 1) await admin.deleteTopics({ topics: [topic] })
          }
        })(),
        (error: unknown) => {
          assert.ok(error instanceof NotFoundError, String(error))
          assert.equal(error.exitCode, ExitCode.notFound)
          assert.match(error.message, new RegExp(topic))
          return true
        },
      )
    } finally {
      await admin.disconnect()
      await reader.close()
    }
  })

  it('never creates a topic it looks up, though the broker auto-creates topics', async () => {
    const reader = new KafkaLogReader(connection())
    try {
      const name = uniqueTopic('reader-never-created')
      await assert.rejects(reader.partitions(name))
      const admin = new Kafka({ brokers: testBrokers().split(','), logLevel: logLevel.NOTHING }).admin()
      await admin.connect()
      try {
        assert.ok(!(await admin.listTopics()).includes(name))
      } finally {
        await admin.disconnect()
      }
    } finally {
      await reader.close()
    }
  })
})
