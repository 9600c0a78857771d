/**
 * The log reader port: what `tail`, `replay` and `snapshots` need from Kafka, and nothing more.
 * Two implementations share one contract suite (test/support/log-reader-contract.ts): the real one
 * on kafkajs (src/kafka/kafka-log-reader.ts) and an in-memory one for unit tests
 * (src/kafka/memory-log.ts).
 *
 * Reads are read-committed and group-less: records of aborted transactions and control records
 * are never delivered, and nothing is left behind on the broker (no group, no committed offsets).
 */
import { NotFoundError, nearMatches } from '../errors.js'
import type { EndSpec, StartSpec } from './offset-spec.js'
import type { KafkaRecord } from './record.js'

export interface PartitionWatermarks {
  partition: number
  /** The log start offset: the first offset still in the log. */
  start: number
  /** The last stable offset: every committed record is below it, and no open transaction starts below it. */
  end: number
}

export interface PartitionOffset {
  partition: number
  offset: number
}

/** Offsets `start` up to `end` (exclusive) of one partition; `end` undefined means: follow the log. */
export interface PartitionRange {
  topic: string
  partition: number
  start: number
  end?: number
}

/**
 * Records of one partition, in offset order, and `position`: the offset to read from next. The
 * position may pass offsets that deliver no record (compaction gaps, control records, aborted
 * transactions), so a batch can have no records and still move the position; a caller that stores
 * `position` resumes without repeating or missing a record. Never past the range's end.
 */
export interface RecordBatch {
  topic: string
  partition: number
  records: KafkaRecord[]
  position: number
}

export interface ResolveOptions {
  from: StartSpec
  /** Where bounded reads stop, fixed when resolving; undefined: follow the log. */
  until?: EndSpec
  /** Only these partitions (of every topic); default all. */
  partitions?: number[]
}

export interface ReadOptions {
  /** Aborting ends the iteration cleanly (no error); reads that follow the log end only so. */
  signal?: AbortSignal
  /** Upper bound of bytes fetched per request (an implementation may return one larger batch). */
  maxBytes?: number
  /** How long one fetch waits on the broker for new records when caught up. */
  maxWaitMs?: number
  /**
   * Reads that follow the log wait out broker outages; this is told once when the connection is
   * lost (`lost`) and once when the broker answers again (`back`), with a line to show.
   */
  onConnection?: (state: 'lost' | 'back', message: string) => void
}

export interface LogReader {
  /** Topic names, internal topics (`__consumer_offsets`…) excluded, sorted. */
  topics(): Promise<string[]>
  /** Partition ids of `topic`, ascending; an unknown topic throws NotFoundError with near matches. */
  partitions(topic: string): Promise<number[]>
  watermarks(topic: string): Promise<PartitionWatermarks[]>
  /** Per partition, the first offset whose record timestamp is at or after `timestamp`; the end if none. */
  offsetsForTime(topic: string, timestamp: number): Promise<PartitionOffset[]>
  /** Ranges per topic and partition, with every end fixed now (see `resolvePartitionRanges`). */
  resolveRanges(topics: string[], options: ResolveOptions): Promise<PartitionRange[]>
  /**
   * Batches of the ranges until every bounded range's position reaches its end, or forever for
   * ranges without end until `signal` aborts. Ranges with start ≥ end are never fetched. Records
   * at or beyond a range's end are never delivered, even when the log has grown since.
   */
  read(ranges: PartitionRange[], options?: ReadOptions): AsyncIterable<RecordBatch>
  close(): Promise<void>
}

/**
 * Turns start and end specs into offsets, once, for both implementations:
 * - starts are clamped into [log start, end]: an offset lost to retention starts at the log start,
 *   one beyond the end starts at the end;
 * - `-n` is n offsets before the end (fewer records where compaction left gaps);
 * - a time with no record at or after it resolves to the end;
 * - bounded ends never exceed the last stable offset seen now, so a bounded read cannot wait for
 *   records that do not exist yet; a start beyond the end gives an empty range.
 */
export async function resolvePartitionRanges(
  reader: Pick<LogReader, 'watermarks' | 'offsetsForTime'>,
  topics: string[],
  options: ResolveOptions,
): Promise<PartitionRange[]> {
  const ranges: PartitionRange[] = []
  for (const topic of topics) {
    const watermarks = await reader.watermarks(topic)
    const selected = selectPartitions(topic, watermarks, options.partitions)
    const startTimes = options.from.kind === 'time' ? await reader.offsetsForTime(topic, options.from.timestamp) : []
    const endTimes = options.until?.kind === 'time' ? await reader.offsetsForTime(topic, options.until.timestamp) : []
    for (const mark of selected) {
      const clamp = (offset: number) => Math.min(Math.max(offset, mark.start), mark.end)
      const start = clamp(startOffset(options.from, mark, startTimes))
      if (options.until === undefined) {
        ranges.push({ topic, partition: mark.partition, start })
        continue
      }
      const end = clamp(endOffset(options.until, mark, endTimes))
      ranges.push({ topic, partition: mark.partition, start: Math.min(start, end), end })
    }
  }
  return ranges
}

function startOffset(spec: StartSpec, mark: PartitionWatermarks, times: PartitionOffset[]): number {
  switch (spec.kind) {
    case 'beginning':
      return mark.start
    case 'end':
      return mark.end
    case 'offset':
      return spec.offset
    case 'before-end':
      return mark.end - spec.count
    case 'time':
      return times.find((t) => t.partition === mark.partition)?.offset ?? mark.end
  }
}

function endOffset(spec: EndSpec, mark: PartitionWatermarks, times: PartitionOffset[]): number {
  switch (spec.kind) {
    case 'end':
      return mark.end
    case 'offset':
      return spec.offset
    case 'time':
      return times.find((t) => t.partition === mark.partition)?.offset ?? mark.end
  }
}

function selectPartitions(
  topic: string,
  watermarks: PartitionWatermarks[],
  partitions: number[] | undefined,
): PartitionWatermarks[] {
  if (partitions === undefined) return watermarks
  return partitions.map((partition) => {
    const mark = watermarks.find((m) => m.partition === partition)
    if (mark === undefined) {
      throw new NotFoundError(`topic "${topic}" has no partition ${partition}`, {
        code: 'PARTITION_NOT_FOUND',
        suggestion: `its partitions are ${describePartitions(watermarks.map((m) => m.partition))}`,
        where: { topic, partition },
      })
    }
    return mark
  })
}

/** `0-3`, or `0, 2, 5` when not contiguous. */
export function describePartitions(partitions: number[]): string {
  const sorted = [...partitions].sort((a, b) => a - b)
  if (sorted.length === 0) return 'none'
  const contiguous = sorted.every((p, i) => p === sorted[0] + i)
  return contiguous && sorted.length > 2 ? `${sorted[0]}-${sorted[sorted.length - 1]}` : sorted.join(', ')
}

/** The error for a topic that does not exist, naming near matches among `existing`. */
export function topicNotFound(topic: string, existing: Iterable<string>): NotFoundError {
  const near = nearMatches(topic, existing)
  return new NotFoundError(`topic "${topic}" does not exist`, {
    code: 'TOPIC_NOT_FOUND',
    suggestion:
      near.length > 0 ? `did you mean ${near.join(', ')}?` : 'list topics with kcat -L or kafka-topics --list',
    where: { topic },
  })
}

/** One record's place in the log. */
export interface RecordPosition {
  topic: string
  partition: number
  offset: number
}

/** `orders/2@1041`: how `recordTimestamps` keys its answers. */
export function positionKey(position: RecordPosition): string {
  return `${position.topic}/${position.partition}@${position.offset}`
}

/**
 * When the records at `positions` were written (epoch ms), by `positionKey`; positions without a
 * record (compaction gaps, transaction markers, past the end) are absent. Reads one record per
 * position, several positions of one partition in successive reads.
 */
export async function recordTimestamps(
  reader: Pick<LogReader, 'read'>,
  positions: RecordPosition[],
): Promise<Map<string, number>> {
  const times = new Map<string, number>()
  let pending = [...new Map(positions.map((p) => [positionKey(p), p])).values()]
  while (pending.length > 0) {
    const round = new Map<string, RecordPosition>()
    const later: RecordPosition[] = []
    for (const position of pending) {
      const partition = `${position.topic}/${position.partition}`
      if (round.has(partition)) later.push(position)
      else round.set(partition, position)
    }
    const ranges = [...round.values()].map((p) => ({
      topic: p.topic,
      partition: p.partition,
      start: p.offset,
      end: p.offset + 1,
    }))
    for await (const batch of reader.read(ranges)) {
      for (const record of batch.records) times.set(positionKey(record), record.timestamp)
    }
    pending = later
  }
  return times
}
