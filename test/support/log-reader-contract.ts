/**
 * The LogReader contract: one suite, run against every implementation (the in-memory log in
 * test/unit/memory-log.test.ts, the kafkajs reader on the real broker in
 * test/integration/kafka-reader.test.ts). A fixture creates topics and writes records its own way
 * (MemoryLog.append, a kafkajs producer); the suite only reads through the port.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { ExitCode, NotFoundError } from '../../src/errors.js'
import type { LogReader, PartitionRange, RecordBatch } from '../../src/kafka/log-reader.js'
import { parseEndSpec, parseStartSpec } from '../../src/kafka/offset-spec.js'
import type { KafkaRecord } from '../../src/kafka/record.js'

export interface ProducedRecord {
  partition: number
  key: string | null
  value: string | null
  headers?: Record<string, string>
  timestamp?: number
}

export interface OpenTransaction {
  commit(): Promise<void>
  abort(): Promise<void>
}

export interface LogFixture {
  reader: LogReader
  createTopic(topic: string, partitions: number): Promise<void>
  /** Writes records in order (each partition's records get consecutive offsets). */
  produce(topic: string, records: ProducedRecord[]): Promise<void>
  /** Writes records in one transaction and leaves it open. */
  beginTransaction(topic: string, records: ProducedRecord[]): Promise<OpenTransaction>
  close(): Promise<void>
}

export function contractTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** Every batch of a read, collected. */
export async function collect(reader: LogReader, ranges: PartitionRange[]): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = []
  for await (const batch of reader.read(ranges)) batches.push(batch)
  return batches
}

export function recordsOf(batches: RecordBatch[]): KafkaRecord[] {
  return batches.flatMap((b) => b.records)
}

/** The last position each partition reached, `topic/partition` → position. */
export function positionsOf(batches: RecordBatch[]): Map<string, number> {
  const positions = new Map<string, number>()
  for (const b of batches) positions.set(`${b.topic}/${b.partition}`, b.position)
  return positions
}

function text(buffer: Buffer | null): string | null {
  return buffer === null ? null : buffer.toString('utf8')
}

function summary(record: KafkaRecord): string {
  return `${record.partition}@${record.offset} ${text(record.key)}=${text(record.value)}`
}

function values(records: KafkaRecord[]): Array<string | null> {
  return records.map((r) => text(r.value))
}

function numbered(partition: number, prefix: string, count: number, from = 0): ProducedRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    partition,
    key: `${prefix}-k${from + i}`,
    value: `${prefix}-v${from + i}`,
  }))
}

export function logReaderContract(name: string, setup: () => Promise<LogFixture>): void {
  describe(`LogReader contract: ${name}`, () => {
    const withFixture = (title: string, body: (fixture: LogFixture) => Promise<void>) =>
      it(title, async () => {
        const fixture = await setup()
        try {
          await body(fixture)
        } finally {
          await fixture.close()
        }
      })

    withFixture('lists topics and partitions', async ({ reader, createTopic }) => {
      const topic = contractTopic('contract-list')
      await createTopic(topic, 3)
      assert.ok((await reader.topics()).includes(topic))
      assert.deepEqual(await reader.partitions(topic), [0, 1, 2])
    })

    withFixture('names near matches for an unknown topic (exit 6)', async ({ reader, createTopic }) => {
      const topic = contractTopic('contract-orders')
      await createTopic(topic, 1)
      const typo = topic.slice(0, -1)
      for (const attempt of [
        () => reader.partitions(typo),
        () => reader.watermarks(typo),
        () => reader.resolveRanges([typo], { from: { kind: 'beginning' }, until: { kind: 'end' } }),
      ]) {
        await assert.rejects(attempt, (error: unknown) => {
          assert.ok(error instanceof NotFoundError, String(error))
          assert.equal(error.exitCode, ExitCode.notFound)
          assert.match(error.message, new RegExp(typo))
          assert.match(error.suggestion ?? '', new RegExp(topic))
          return true
        })
      }
      assert.ok(!(await reader.topics()).includes(typo), 'looking up a topic must not create it')
    })

    withFixture('rejects a partition the topic does not have (exit 6)', async ({ reader, createTopic }) => {
      const topic = contractTopic('contract-partition')
      await createTopic(topic, 2)
      await assert.rejects(
        reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' }, partitions: [5] }),
        (error: unknown) => error instanceof NotFoundError && /0, 1/.test(error.suggestion ?? ''),
      )
    })

    withFixture('reports watermarks per partition', async ({ reader, createTopic, produce }) => {
      const topic = contractTopic('contract-watermarks')
      await createTopic(topic, 3)
      await produce(topic, [...numbered(0, 'a', 5), ...numbered(2, 'c', 2)])
      assert.deepEqual(await reader.watermarks(topic), [
        { partition: 0, start: 0, end: 5 },
        { partition: 1, start: 0, end: 0 },
        { partition: 2, start: 0, end: 2 },
      ])
    })

    withFixture(
      'reads every record once, in order, intact, and stops at the ends',
      async ({ reader, createTopic, produce }) => {
        const topic = contractTopic('contract-bounded')
        await createTopic(topic, 3)
        const timestamp = Date.UTC(2024, 4, 1, 10, 0, 0)
        const produced: ProducedRecord[] = [
          ...numbered(0, 'p0', 250),
          ...numbered(1, 'p1', 3),
          { partition: 1, key: null, value: 'no key', headers: { type: 'Opened', trace: 'ü-1' }, timestamp },
          { partition: 1, key: 'tombstone', value: null },
        ]
        await produce(topic, produced)
        const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
        assert.deepEqual(
          ranges.map((r) => [r.partition, r.start, r.end]),
          [
            [0, 0, 250],
            [1, 0, 5],
            [2, 0, 0],
          ],
        )
        const batches = await collect(reader, ranges)
        assert.ok(
          batches.every((b) => b.partition !== 2),
          'an empty partition is never fetched',
        )
        const records = recordsOf(batches)
        for (const partition of [0, 1]) {
          const mine = records.filter((r) => r.partition === partition)
          assert.deepEqual(
            mine.map((r) => r.offset),
            mine.map((_, i) => i),
            `partition ${partition}: every offset once, in order`,
          )
          assert.deepEqual(
            mine.map((r) => [text(r.key), text(r.value)]),
            produced.filter((p) => p.partition === partition).map((p) => [p.key, p.value]),
          )
        }
        const special = records.find((r) => r.partition === 1 && r.offset === 3)
        assert.ok(special)
        assert.equal(special.key, null)
        assert.equal(special.timestamp, timestamp)
        assert.equal(special.topic, topic)
        assert.deepEqual(Object.fromEntries(Object.entries(special.headers).map(([k, v]) => [k, String(v)])), {
          type: 'Opened',
          trace: 'ü-1',
        })
        assert.equal(records.find((r) => r.partition === 1 && r.offset === 4)?.value, null)
        assert.deepEqual(
          positionsOf(batches),
          new Map([
            [`${topic}/0`, 250],
            [`${topic}/1`, 5],
          ]),
        )
        for (const b of batches) {
          const last = b.records.at(-1)
          if (last) assert.ok(b.position > last.offset, 'a position is past the records of its batch')
        }
      },
    )

    withFixture(
      'never delivers records written after the ends were fixed',
      async ({ reader, createTopic, produce }) => {
        const topic = contractTopic('contract-fixed-end')
        await createTopic(topic, 2)
        await produce(topic, [...numbered(0, 'early', 10), ...numbered(1, 'early', 4)])
        const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
        await produce(topic, [...numbered(0, 'late', 10), ...numbered(1, 'late', 10)])
        const records = recordsOf(await collect(reader, ranges))
        assert.equal(records.length, 14)
        assert.ok(records.every((r) => text(r.value)?.startsWith('early')))
      },
    )

    withFixture('resolves start positions: offset, -n, time, duration', async ({ reader, createTopic, produce }) => {
      const topic = contractTopic('contract-start')
      await createTopic(topic, 2)
      const now = Date.now()
      const hour = 3_600_000
      await produce(topic, [
        ...[5, 4, 3, 2, 1].map((hoursAgo, i) => ({
          partition: 0,
          key: `k${i}`,
          value: `${hoursAgo}h`,
          timestamp: now - hoursAgo * hour,
        })),
        ...[3, 1].map((hoursAgo, i) => ({
          partition: 1,
          key: `k${i}`,
          value: `${hoursAgo}h`,
          timestamp: now - hoursAgo * hour,
        })),
      ])
      const read = async (from: string, until = 'end') =>
        values(
          recordsOf(
            await collect(
              reader,
              await reader.resolveRanges([topic], {
                from: parseStartSpec(from, { now }),
                until: parseEndSpec(until, { now }),
              }),
            ),
          ).sort((a, b) => a.partition - b.partition || a.offset - b.offset),
        )
      assert.deepEqual(
        await read('3'),
        ['2h', '1h'],
        'offset 3: partition 0 from 3, partition 1 (2 records) at its end',
      )
      assert.deepEqual(await read('-2'), ['2h', '1h', '3h', '1h'])
      assert.deepEqual(
        await read('-100'),
        ['5h', '4h', '3h', '2h', '1h', '3h', '1h'],
        '-n never goes before the log start',
      )
      assert.deepEqual(await read('150m'), ['2h', '1h', '1h'], 'a duration ago')
      assert.deepEqual(await read(new Date(now - 3 * hour).toISOString()), ['3h', '2h', '1h', '3h', '1h'])
      assert.deepEqual(await read(`s@${now - 4 * hour}`), ['4h', '3h', '2h', '1h', '3h', '1h'])
      assert.deepEqual(await read('30m'), [], 'nothing that recent')
      assert.deepEqual(await read('end'), [])
      assert.deepEqual(await read('beginning', '2'), ['5h', '4h', '3h', '1h'], 'an end offset is exclusive')
      assert.deepEqual(await read('beginning', '150m'), ['5h', '4h', '3h', '3h'], 'until a duration ago')
      assert.deepEqual(await read('1', '1'), [], 'start at the end: empty')
      assert.deepEqual(await read('4', '2'), [], 'start after the end: empty')
    })

    withFixture('reads only the partitions asked for', async ({ reader, createTopic, produce }) => {
      const topic = contractTopic('contract-partitions')
      await createTopic(topic, 3)
      await produce(topic, [...numbered(0, 'a', 2), ...numbered(1, 'b', 2), ...numbered(2, 'c', 2)])
      const ranges = await reader.resolveRanges([topic], {
        from: { kind: 'beginning' },
        until: { kind: 'end' },
        partitions: [2, 0],
      })
      const records = recordsOf(await collect(reader, ranges))
      assert.deepEqual([...new Set(records.map((r) => r.partition))].sort(), [0, 2])
      assert.equal(records.length, 4)
    })

    withFixture('reads several topics in one read', async ({ reader, createTopic, produce }) => {
      const first = contractTopic('contract-multi-a')
      const second = contractTopic('contract-multi-b')
      await createTopic(first, 1)
      await createTopic(second, 2)
      await produce(first, numbered(0, 'a', 3))
      await produce(second, [...numbered(0, 'b', 2), ...numbered(1, 'c', 1)])
      const ranges = await reader.resolveRanges([first, second], {
        from: { kind: 'beginning' },
        until: { kind: 'end' },
      })
      const records = recordsOf(await collect(reader, ranges))
      assert.deepEqual(records.map((r) => `${r.topic === first ? 'first' : 'second'} ${summary(r)}`).sort(), [
        'first 0@0 a-k0=a-v0',
        'first 0@1 a-k1=a-v1',
        'first 0@2 a-k2=a-v2',
        'second 0@0 b-k0=b-v0',
        'second 0@1 b-k1=b-v1',
        'second 1@0 c-k0=c-v0',
      ])
    })

    withFixture(
      'resumes at a position without repeating or missing a record',
      async ({ reader, createTopic, produce }) => {
        const topic = contractTopic('contract-resume')
        await createTopic(topic, 1)
        await produce(topic, numbered(0, 'r', 40))
        const [all] = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
        const firstPart = recordsOf(await collect(reader, [{ ...all, end: 17 }]))
        const secondPart = recordsOf(await collect(reader, [{ ...all, start: 17 }]))
        assert.deepEqual(
          [...firstPart, ...secondPart].map((r) => r.offset),
          Array.from({ length: 40 }, (_, i) => i),
        )
      },
    )

    withFixture(
      'skips aborted transactions and transaction markers, and still reaches the end',
      async ({ reader, createTopic, produce, beginTransaction }) => {
        const topic = contractTopic('contract-transactions')
        await createTopic(topic, 2)
        await produce(topic, numbered(0, 'plain', 2))
        const committed = await beginTransaction(topic, [
          ...numbered(0, 'committed', 3),
          ...numbered(1, 'committed', 1),
        ])
        await committed.commit()
        const aborted = await beginTransaction(topic, [...numbered(0, 'aborted', 4), ...numbered(1, 'aborted', 2)])
        await aborted.abort()
        const last = await beginTransaction(topic, numbered(1, 'last', 1))
        await last.commit()
        const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
        const batches = await collect(reader, ranges)
        const records = recordsOf(batches)
        assert.deepEqual(values(records.filter((r) => r.partition === 0)), [
          'plain-v0',
          'plain-v1',
          'committed-v0',
          'committed-v1',
          'committed-v2',
        ])
        assert.deepEqual(values(records.filter((r) => r.partition === 1)), ['committed-v0', 'last-v0'])
        const positions = positionsOf(batches)
        for (const range of ranges) {
          const highest = Math.max(...records.filter((r) => r.partition === range.partition).map((r) => r.offset))
          assert.ok(range.end !== undefined && range.end > highest + 1, 'markers and aborted records take offsets')
          assert.equal(positions.get(`${topic}/${range.partition}`), range.end, 'the position reaches the end')
        }
      },
    )

    withFixture(
      'stops before an open transaction and sees it once committed',
      async ({ reader, createTopic, produce, beginTransaction }) => {
        const topic = contractTopic('contract-open-transaction')
        await createTopic(topic, 1)
        await produce(topic, numbered(0, 'before', 2))
        const open = await beginTransaction(topic, numbered(0, 'pending', 2))
        try {
          const [marks] = await reader.watermarks(topic)
          assert.equal(marks.end, 2, 'the last stable offset stays before the open transaction')
          const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
          assert.deepEqual(values(recordsOf(await collect(reader, ranges))), ['before-v0', 'before-v1'])
        } finally {
          await open.commit()
        }
        const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
        assert.deepEqual(values(recordsOf(await collect(reader, ranges))), [
          'before-v0',
          'before-v1',
          'pending-v0',
          'pending-v1',
        ])
        assert.equal(ranges[0].end, 5, 'the commit marker takes an offset')
      },
    )

    withFixture('follows new records and stops cleanly on abort', async ({ reader, createTopic, produce }) => {
      const topic = contractTopic('contract-follow')
      await createTopic(topic, 2)
      await produce(topic, numbered(0, 'old', 3))
      const ranges = await reader.resolveRanges([topic], { from: { kind: 'end' } })
      assert.ok(ranges.every((r) => r.end === undefined))
      const controller = new AbortController()
      const seen: KafkaRecord[] = []
      const reading = (async () => {
        for await (const batch of reader.read(ranges, { signal: controller.signal })) {
          seen.push(...batch.records)
          if (seen.length >= 3) controller.abort()
        }
      })()
      await produce(topic, [...numbered(1, 'new', 1), ...numbered(0, 'new', 2, 1)])
      await reading
      assert.deepEqual(values(seen).sort(), ['new-v0', 'new-v1', 'new-v2'])
      assert.deepEqual(seen.map((r) => `${r.partition}@${r.offset}`).sort(), ['0@3', '0@4', '1@0'])
    })

    withFixture('ends a follow that delivers nothing when aborted', async ({ reader, createTopic }) => {
      const topic = contractTopic('contract-follow-idle')
      await createTopic(topic, 1)
      const ranges = await reader.resolveRanges([topic], { from: { kind: 'end' } })
      const controller = new AbortController()
      const reading = (async () => {
        let batches = 0
        for await (const _ of reader.read(ranges, { signal: controller.signal })) batches++
        return batches
      })()
      setTimeout(() => controller.abort(), 300)
      assert.equal(await reading, 0)
    })

    withFixture('lets a caller stop early and read again', async ({ reader, createTopic, produce }) => {
      const topic = contractTopic('contract-break')
      await createTopic(topic, 1)
      await produce(topic, numbered(0, 'b', 300))
      const ranges = await reader.resolveRanges([topic], { from: { kind: 'beginning' }, until: { kind: 'end' } })
      for await (const batch of reader.read(ranges)) {
        assert.ok(batch.records.length > 0)
        break
      }
      assert.equal(recordsOf(await collect(reader, ranges)).length, 300)
    })
  })
}
