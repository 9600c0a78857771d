/**
 * Records of several partitions (several topics: one topic per event type, seed 004) merged into
 * one fold order, so that an aggregate whose events are spread over topics folds in the order
 * they happened, not in the order fetches returned them or topics are listed.
 *
 * The order:
 * - Within a partition, offset order always wins.
 * - Events of one aggregate that carry versions are folded in version order: a partition's head is
 *   held back while another partition has an event of the same aggregate with a lower version
 *   buffered (so a close stamped before the deposit it follows still folds after it).
 * - Otherwise (between aggregates, and for events without a version) record time decides; ties
 *   go to the earlier topic/partition in range order.
 *
 * A record is emitted only when every partition not yet finished has a record buffered (or is
 * finished): then the smallest timestamp among the heads is the smallest still to come from
 * anywhere, since each partition's timestamps are non-decreasing in practice (producer-set
 * timestamps can go backwards; such records are emitted in partition order, never dropped).
 *
 * What the order had to decide is reported, never resolved silently (`OrderingReport`): events of
 * one aggregate with the same record time in different partitions, and versions that go backwards
 * or repeat across partitions in record-time order (folded by version when both were buffered; a
 * lower version that arrives after a higher one was folded is folded late, and reported so).
 *
 * Output batches hold one record, with `position` = its offset + 1, so positions stored by the
 * fold always mark a consistent cut; a drained batch contributes its own position at the end.
 */
import type { KafkaRecord } from '../kafka/record.js'
import type { FoldBatch } from './fold.js'

/** What the merge needs to know of a record: its aggregate and, when the envelope has one, its version. */
export interface OrderKey {
  aggregateId: string
  version?: number
}

export interface OrderingExample {
  aggregateId: string
  /** The two records, as `topic/partition@offset`, in the order they were folded. */
  records: [string, string]
  timestamps: [string, string]
  versions?: [number | undefined, number | undefined]
  /** How the merge decided. */
  folded: 'by version' | 'in topic order' | 'late (the lower version arrived after the higher was folded)'
}

export interface OrderingReport {
  /** Events of one aggregate with the same record timestamp in different topics/partitions. */
  sameTimestamp: { count: number; first?: OrderingExample }
  /** An aggregate's version going backwards or repeating across topics/partitions in record-time order. */
  versions: { count: number; backwards: number; repeated: number; first?: OrderingExample & { kind: string } }
}

export function emptyOrderingReport(): OrderingReport {
  return { sameTimestamp: { count: 0 }, versions: { count: 0, backwards: 0, repeated: 0 } }
}

export interface MergeOptions {
  /** The aggregate and version of a record (undefined when it has none or cannot be decoded). */
  orderKey?: (record: KafkaRecord) => OrderKey | undefined | Promise<OrderKey | undefined>
  /** Filled while merging. */
  report?: OrderingReport
  /** How many recently folded aggregates are remembered to catch versions that arrive late. Default 100,000. */
  recentAggregates?: number
}

interface Lane {
  name: string
  records: KafkaRecord[]
  keys: Array<OrderKey | undefined>
  next: number
  /** Position to report once the buffered batches are drained. */
  pendingPositions: Array<{ afterIndex: number; position: number }>
  /** The range end: a lane whose position reaches it receives nothing more. */
  end: number
  finished: boolean
}

/** A buffered, not yet emitted record of an aggregate. */
interface Pending {
  lane: Lane
  record: KafkaRecord
  version?: number
}

interface Folded {
  lane: Lane
  record: KafkaRecord
  version?: number
}

export async function* mergeByTimestamp(
  batches: AsyncIterable<FoldBatch>,
  partitions: Array<{ topic: string; partition: number; start: number; end?: number }>,
  options: MergeOptions = {},
): AsyncIterable<FoldBatch> {
  const lanes = new Map<string, Lane>()
  const order: Lane[] = []
  for (const p of partitions) {
    const name = `${p.topic}/${p.partition}`
    const end = p.end ?? Number.POSITIVE_INFINITY
    const lane: Lane = { name, records: [], keys: [], next: 0, pendingPositions: [], end, finished: end <= p.start }
    lanes.set(name, lane)
    order.push(lane)
  }
  const { orderKey } = options
  const report = options.report ?? emptyOrderingReport()
  const recentLimit = options.recentAggregates ?? 100_000
  /** Buffered records per aggregate, across lanes. */
  const pending = new Map<string, Pending[]>()
  /** The last folded record of recently folded aggregates (insertion order = recency). */
  const recent = new Map<string, Folded>()
  const iterator = batches[Symbol.asyncIterator]()
  let exhausted = false

  const ready = () => {
    for (const lane of order) if (lane.next >= lane.records.length && !lane.finished) return false
    return true
  }

  /** Whether another lane holds an event of the head's aggregate with a lower version. */
  const blocked = (lane: Lane, key: OrderKey | undefined): boolean => {
    if (key?.version === undefined) return false
    for (const other of pending.get(key.aggregateId) ?? []) {
      if (other.lane !== lane && other.version !== undefined && other.version < key.version) return true
    }
    return false
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
        lane.keys = []
        lane.next = 0
      }
      for (const record of batch.records) {
        let key: OrderKey | undefined
        if (orderKey) {
          try {
            const found = orderKey(record)
            key = found instanceof Promise ? await found : found
          } catch {
            key = undefined // undecodable: the fold reports it; here it orders by time only
          }
        }
        lane.records.push(record)
        lane.keys.push(key)
        if (key) {
          const list = pending.get(key.aggregateId)
          const entry: Pending = { lane, record, version: key.version }
          if (list) list.push(entry)
          else pending.set(key.aggregateId, [entry])
        }
      }
      lane.pendingPositions.push({ afterIndex: lane.records.length, position: batch.position })
      if (batch.position >= lane.end) lane.finished = true
    }
    let best: Lane | undefined
    let earliest: Lane | undefined
    for (const lane of order) {
      if (lane.next >= lane.records.length) continue
      const timestamp = lane.records[lane.next].timestamp
      if (!earliest || timestamp < earliest.records[earliest.next].timestamp) earliest = lane
      if (blocked(lane, lane.keys[lane.next])) continue
      if (!best || timestamp < best.records[best.next].timestamp) best = lane
    }
    // Every head waits for a lower version behind another head (a cycle): time decides.
    best ??= earliest
    // Positions of drained batches (including record-less ones past markers or gaps).
    for (const lane of order) {
      while (lane.pendingPositions.length > 0 && lane.pendingPositions[0].afterIndex <= lane.next) {
        const { position } = lane.pendingPositions.shift()!
        const [topic, partition] = splitName(lane.name)
        yield { topic, partition, records: [], position }
      }
    }
    if (!best) {
      // Nothing buffered and every lane at its end: done (let the reader finish cleanly).
      if (!exhausted) await iterator.return?.()
      return
    }
    const record = best.records[best.next]
    const key = best.keys[best.next]
    best.next++
    if (key) noteFolded(best, record, key)
    yield { topic: record.topic, partition: record.partition, records: [record], position: record.offset + 1 }
  }

  /** Removes the record from the pending index and reports what its place in the order decided. */
  function noteFolded(lane: Lane, record: KafkaRecord, key: OrderKey): void {
    const list = pending.get(key.aggregateId)!
    list.splice(
      list.findIndex((p) => p.record === record),
      1,
    )
    if (list.length === 0) pending.delete(key.aggregateId)
    for (const other of list) {
      if (other.lane === lane) continue
      if (other.record.timestamp === record.timestamp) {
        const byVersion = key.version !== undefined && other.version !== undefined && key.version !== other.version
        report.sameTimestamp.count++
        report.sameTimestamp.first ??= example(key, { lane, record, version: key.version }, other, {
          folded: byVersion ? 'by version' : 'in topic order',
        })
      }
      if (
        key.version !== undefined &&
        other.version !== undefined &&
        other.version > key.version &&
        other.record.timestamp < record.timestamp
      ) {
        // Stamped after a higher version of the same aggregate: folded first all the same.
        noteVersion('backwards', example(key, { lane, record, version: key.version }, other, { folded: 'by version' }))
      }
    }
    const last = recent.get(key.aggregateId)
    if (last && last.lane !== lane && key.version !== undefined && last.version !== undefined) {
      if (last.version === key.version) {
        noteVersion(
          'repeated',
          example(key, last, { lane, record, version: key.version }, { folded: 'in topic order' }),
        )
      } else if (last.version > key.version) {
        noteVersion(
          'backwards',
          example(
            key,
            last,
            { lane, record, version: key.version },
            {
              folded: 'late (the lower version arrived after the higher was folded)',
            },
          ),
        )
      }
    }
    recent.delete(key.aggregateId)
    recent.set(key.aggregateId, { lane, record, version: key.version })
    if (recent.size > recentLimit) recent.delete(recent.keys().next().value as string)
  }

  function noteVersion(kind: 'backwards' | 'repeated', found: OrderingExample): void {
    report.versions.count++
    report.versions[kind]++
    report.versions.first ??= { ...found, kind }
  }
}

/** `first` was folded before `second`. */
function example(key: OrderKey, first: Folded, second: Folded, how: Pick<OrderingExample, 'folded'>): OrderingExample {
  const at = (f: Folded) => `${f.record.topic}/${f.record.partition}@${f.record.offset}`
  const time = (f: Folded) => new Date(f.record.timestamp).toISOString()
  const result: OrderingExample = {
    aggregateId: key.aggregateId,
    records: [at(first), at(second)],
    timestamps: [time(first), time(second)],
    folded: how.folded,
  }
  if (first.version !== undefined || second.version !== undefined) result.versions = [first.version, second.version]
  return result
}

/** One line per kind of ordering decision, for stderr; none when nothing had to be decided. */
export function describeOrdering(report: OrderingReport): string[] {
  const lines: string[] = []
  const show = (e: OrderingExample) =>
    `${e.aggregateId}: ${e.records[0]} (${e.timestamps[0]}${e.versions ? `, version ${e.versions[0]}` : ''}) and ${e.records[1]} (${e.timestamps[1]}${e.versions ? `, version ${e.versions[1]}` : ''}), folded ${e.folded}`
  const { sameTimestamp, versions } = report
  if (sameTimestamp.count > 0 && sameTimestamp.first) {
    lines.push(
      `${sameTimestamp.count} event(s) of one aggregate share their record timestamp with another in a different topic; first: ${show(sameTimestamp.first)}`,
    )
  }
  if (versions.count > 0 && versions.first) {
    lines.push(
      `${versions.count} version(s) go backwards (${versions.backwards}) or repeat (${versions.repeated}) across topics in record-time order; first (${versions.first.kind}): ${show(versions.first)}`,
    )
  }
  return lines
}

function splitName(name: string): [string, number] {
  const slash = name.lastIndexOf('/')
  return [name.slice(0, slash), Number(name.slice(slash + 1))]
}
