/**
 * Records of several partitions (several topics: one topic per event type, seed 004) merged into
 * timestamp order, so that an aggregate whose events are spread over topics folds in the order
 * they happened, not in the order fetches returned them.
 *
 * A record is emitted only when every partition not yet finished has a record buffered (or is
 * finished): then the smallest timestamp among the heads is the smallest still to come from
 * anywhere, since each partition's timestamps are non-decreasing in practice (producer-set
 * timestamps can go backwards; such records are emitted in partition order, never dropped).
 * Ties go to the earlier topic/partition in range order.
 *
 * Output batches hold one record, with `position` = its offset + 1, so positions stored by the
 * fold always mark a consistent cut; a drained batch contributes its own position at the end.
 */
import type { KafkaRecord } from '../kafka/record.js'
import type { FoldBatch } from './fold.js'

interface Lane {
  records: KafkaRecord[]
  next: number
  /** Position to report once the buffered batches are drained. */
  pendingPositions: Array<{ afterIndex: number; position: number }>
  /** The range end: a lane whose position reaches it receives nothing more. */
  end: number
  finished: boolean
}

export async function* mergeByTimestamp(
  batches: AsyncIterable<FoldBatch>,
  partitions: Array<{ topic: string; partition: number; start: number; end?: number }>,
): AsyncIterable<FoldBatch> {
  const lanes = new Map<string, Lane>()
  const order: string[] = []
  for (const p of partitions) {
    const key = `${p.topic}/${p.partition}`
    order.push(key)
    const end = p.end ?? Number.POSITIVE_INFINITY
    lanes.set(key, { records: [], next: 0, pendingPositions: [], end, finished: end <= p.start })
  }
  const iterator = batches[Symbol.asyncIterator]()
  let exhausted = false

  const ready = () => {
    for (const key of order) {
      const lane = lanes.get(key)!
      if (lane.next >= lane.records.length && !lane.finished) return false
    }
    return true
  }

  for (;;) {
    while (!exhausted && !ready()) {
      const step = await iterator.next()
      if (step.done) {
        exhausted = true
        for (const lane of lanes.values()) lane.finished = true
        break
      }
      const batch = step.value
      const lane = lanes.get(`${batch.topic}/${batch.partition}`)!
      if (lane.next > 0 && lane.next >= lane.records.length) {
        lane.records = []
        lane.next = 0
      }
      lane.records.push(...batch.records)
      lane.pendingPositions.push({ afterIndex: lane.records.length, position: batch.position })
      if (batch.position >= lane.end) lane.finished = true
    }
    let best: { key: string; lane: Lane; record: KafkaRecord } | undefined
    for (const key of order) {
      const lane = lanes.get(key)!
      if (lane.next < lane.records.length) {
        const record = lane.records[lane.next]
        if (!best || record.timestamp < best.record.timestamp) best = { key, lane, record }
      }
    }
    // Positions of drained batches (including record-less ones past markers or gaps).
    for (const key of order) {
      const lane = lanes.get(key)!
      while (lane.pendingPositions.length > 0 && lane.pendingPositions[0].afterIndex <= lane.next) {
        const { position } = lane.pendingPositions.shift()!
        const [topic, partition] = splitKey(key)
        yield { topic, partition, records: [], position }
      }
    }
    if (!best) {
      // Nothing buffered and every lane at its end: done (let the reader finish cleanly).
      if (!exhausted) await iterator.return?.()
      return
    }
    best.lane.next++
    const { record } = best
    yield { topic: record.topic, partition: record.partition, records: [record], position: record.offset + 1 }
  }
}

function splitKey(key: string): [string, number] {
  const slash = key.lastIndexOf('/')
  return [key.slice(0, slash), Number(key.slice(slash + 1))]
}
