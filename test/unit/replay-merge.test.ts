import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { KafkaRecord } from '../../src/kafka/record.js'
import type { FoldBatch } from '../../src/replay/fold.js'
import { emptyOrderingReport, mergeByTimestamp } from '../../src/replay/merge.js'

function record(topic: string, offset: number, timestamp: number): KafkaRecord {
  return { topic, partition: 0, offset, timestamp, key: null, value: Buffer.from(`${topic}@${offset}`), headers: {} }
}

async function collect(
  batches: FoldBatch[],
  ranges: Array<{ topic: string; partition: number; start: number; end: number }>,
) {
  async function* source() {
    for (const batch of batches) yield batch
  }
  const out: FoldBatch[] = []
  for await (const batch of mergeByTimestamp(source(), ranges)) out.push(batch)
  return out
}

describe('mergeByTimestamp (one topic per event type)', () => {
  it('emits records of several topics in timestamp order, whatever order the fetches returned', async () => {
    // Deposits fetched before the account was opened, as with Spring's topic-per-event-type.
    const out = await collect(
      [
        {
          topic: 'Deposited',
          partition: 0,
          records: [record('Deposited', 0, 20), record('Deposited', 1, 40)],
          position: 2,
        },
        { topic: 'Opened', partition: 0, records: [record('Opened', 0, 10)], position: 1 },
        { topic: 'Withdrawn', partition: 0, records: [record('Withdrawn', 0, 30)], position: 3 },
      ],
      [
        { topic: 'Opened', partition: 0, start: 0, end: 1 },
        { topic: 'Deposited', partition: 0, start: 0, end: 2 },
        { topic: 'Withdrawn', partition: 0, start: 0, end: 3 },
      ],
    )
    const records = out.flatMap((b) => b.records.map((r) => `${r.topic}@${r.offset}`))
    assert.deepEqual(records, ['Opened@0', 'Deposited@0', 'Withdrawn@0', 'Deposited@1'])
  })

  it('reports each partition position, including positions past records (markers, gaps)', async () => {
    const out = await collect(
      [
        { topic: 'A', partition: 0, records: [record('A', 0, 1)], position: 3 },
        { topic: 'B', partition: 0, records: [], position: 5 },
      ],
      [
        { topic: 'A', partition: 0, start: 0, end: 3 },
        { topic: 'B', partition: 0, start: 4, end: 5 },
      ],
    )
    const last = new Map<string, number>()
    for (const b of out) last.set(b.topic, b.position)
    assert.deepEqual(Object.fromEntries(last), { A: 3, B: 5 })
    assert.equal(out.flatMap((b) => b.records).length, 1)
  })
})

describe('mergeByTimestamp with versions (events of one aggregate in version order)', () => {
  const event = (topic: string, offset: number, timestamp: number, id: string, version?: number) => ({
    ...record(topic, offset, timestamp),
    value: Buffer.from(JSON.stringify({ id, version })),
  })
  const orderKey = (r: KafkaRecord) => {
    const value = JSON.parse(String(r.value)) as { id: string; version?: number }
    return { aggregateId: value.id, version: value.version }
  }
  async function merge(batches: FoldBatch[]) {
    const ranges = [...new Set(batches.map((b) => b.topic))].map((topic) => ({
      topic,
      partition: 0,
      start: 0,
      end: Math.max(...batches.filter((b) => b.topic === topic).map((b) => b.position)),
    }))
    async function* source() {
      for (const batch of batches) yield batch
    }
    const report = emptyOrderingReport()
    const out: string[] = []
    for await (const batch of mergeByTimestamp(source(), ranges, { orderKey, report })) {
      for (const r of batch.records) out.push(`${r.topic}@${r.offset}`)
    }
    return { out, report }
  }

  it('a close stamped before the deposit it follows folds after it, and is reported', async () => {
    const { out, report } = await merge([
      { topic: 'Closed', partition: 0, records: [event('Closed', 0, 1000, 'a', 2)], position: 1 },
      { topic: 'Deposited', partition: 0, records: [event('Deposited', 0, 2000, 'a', 1)], position: 1 },
    ])
    assert.deepEqual(out, ['Deposited@0', 'Closed@0'])
    assert.equal(report.versions.count, 1)
    assert.equal(report.versions.backwards, 1)
    assert.deepEqual(report.versions.first?.records, ['Deposited/0@0', 'Closed/0@0'])
    assert.equal(report.versions.first?.folded, 'by version')
    assert.equal(report.sameTimestamp.count, 0)
  })

  it('the same millisecond in two topics: version decides, whatever the listing order; reported', async () => {
    const { out, report } = await merge([
      { topic: 'Closed', partition: 0, records: [event('Closed', 0, 1000, 'a', 2)], position: 1 },
      { topic: 'Deposited', partition: 0, records: [event('Deposited', 0, 1000, 'a', 1)], position: 1 },
    ])
    assert.deepEqual(out, ['Deposited@0', 'Closed@0'])
    assert.equal(report.sameTimestamp.count, 1)
    assert.equal(report.sameTimestamp.first?.folded, 'by version')
    assert.equal(report.versions.count, 0)
  })

  it('without versions a tie goes by topic order, and is reported as such', async () => {
    const { out, report } = await merge([
      { topic: 'Closed', partition: 0, records: [event('Closed', 0, 1000, 'a')], position: 1 },
      { topic: 'Deposited', partition: 0, records: [event('Deposited', 0, 1000, 'a')], position: 1 },
    ])
    assert.deepEqual(out, ['Closed@0', 'Deposited@0'])
    assert.equal(report.sameTimestamp.count, 1)
    assert.equal(report.sameTimestamp.first?.folded, 'in topic order')
  })

  it('between aggregates record time decides; a repeated version across topics is reported', async () => {
    const { out, report } = await merge([
      {
        topic: 'A',
        partition: 0,
        records: [event('A', 0, 10, 'x', 0), event('A', 1, 30, 'y', 1)],
        position: 2,
      },
      { topic: 'B', partition: 0, records: [event('B', 0, 20, 'y', 0), event('B', 1, 40, 'x', 0)], position: 2 },
    ])
    assert.deepEqual(out, ['A@0', 'B@0', 'A@1', 'B@1'])
    assert.equal(report.versions.repeated, 1)
    assert.equal(report.versions.first?.aggregateId, 'x')
    assert.equal(report.versions.first?.kind, 'repeated')
  })

  it('a lower version arriving after the higher was folded is folded late and reported', async () => {
    // The deposit sits behind another account's events, beyond what is buffered at first.
    const { out, report } = await merge([
      { topic: 'Closed', partition: 0, records: [event('Closed', 0, 100, 'a', 2)], position: 1 },
      {
        topic: 'Other',
        partition: 0,
        records: [event('Other', 0, 50, 'b', 0), event('Other', 1, 300, 'c', 0)],
        position: 2,
      },
      { topic: 'Other', partition: 0, records: [event('Other', 2, 400, 'a', 1)], position: 3 },
    ])
    assert.deepEqual(out, ['Other@0', 'Closed@0', 'Other@1', 'Other@2'])
    assert.equal(report.versions.backwards, 1)
    assert.match(report.versions.first?.folded ?? '', /^late/)
  })
})
