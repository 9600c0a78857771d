import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { KafkaRecord } from '../../src/kafka/record.js'
import type { FoldBatch } from '../../src/replay/fold.js'
import { mergeByTimestamp } from '../../src/replay/merge.js'

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
