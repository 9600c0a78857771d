/**
 * `es replay`: fold the events of a set of topics, from offset 0 or from the offsets stored with
 * the state, up to the ends fixed at start, and report what was reached.
 */
import { createWriteStream } from 'node:fs'
import { rename } from 'node:fs/promises'
import { finished } from 'node:stream/promises'
import { ConfigError } from '../errors.js'
import type { LogReader, PartitionRange } from '../kafka/log-reader.js'
import type { EndSpec } from '../kafka/offset-spec.js'
import type { KafkaRecord } from '../kafka/record.js'
import { partitionKey, type StateStore } from '../stores/state-store.js'
import { type FoldProgress, fold, type SkippedRecord } from './fold.js'
import type { Reducer, ReducerEvent } from './reducer.js'

export interface ReplayRequest {
  reader: Pick<LogReader, 'resolveRanges' | 'read'>
  topics: string[]
  reducer: Reducer
  store: StateStore
  decode: (record: KafkaRecord) => ReducerEvent | Promise<ReducerEvent>
  /** Discard stored state and start at each partition's first offset. */
  fromBeginning: boolean
  until?: EndSpec
  aggregate?: string
  onTrace?: (event: ReducerEvent, state: unknown) => void
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  checkpointEvents?: number
}

export interface PartitionReach {
  topic: string
  partition: number
  /** Where this run started reading. */
  start: number
  /** The end fixed at start (exclusive). */
  end: number
  /** Where reading stopped: equal to `end` when the replay is complete. */
  reached: number
}

export interface ReplaySummary {
  complete: boolean
  state: string
  reducer: string
  topics: string[]
  /** Continued from stored offsets rather than starting over. */
  resumed: boolean
  events: number
  aggregates: number
  skippedCount: number
  skipped: SkippedRecord[]
  durationMs: number
  eventsPerSecond: number
  partitions: PartitionReach[]
}

export async function runReplay(request: ReplayRequest): Promise<ReplaySummary> {
  const { reader, store, reducer, topics } = request
  const opened = await store.open({ reducer: reducer.identity, topics }, { fresh: request.fromBeginning })
  const resolved = await reader.resolveRanges(topics, {
    from: { kind: 'beginning' },
    until: request.until ?? { kind: 'end' },
  })
  const resumed = opened.offsets.size > 0
  const ranges: PartitionRange[] = resolved.map((range) =>
    resumeRange(
      range,
      opened.offsets.get(partitionKey(range.topic, range.partition)),
      request.onWarning,
      store.location,
    ),
  )
  const startOffsets = new Map(ranges.map((r) => [partitionKey(r.topic, r.partition), r.start]))
  const total = ranges.reduce((sum, r) => sum + Math.max(0, (r.end ?? r.start) - r.start), 0)

  const result = await fold({
    batches: reader.read(ranges),
    total,
    startOffsets,
    decode: request.decode,
    reducer,
    reducerLabel: reducer.name,
    store,
    onError: request.onError,
    aggregate: request.aggregate,
    onTrace: request.onTrace,
    onProgress: request.onProgress,
    checkpointEvents: request.checkpointEvents,
  })

  const partitions = ranges.map((range) => ({
    topic: range.topic,
    partition: range.partition,
    start: range.start,
    end: range.end ?? range.start,
    reached: result.offsets.get(partitionKey(range.topic, range.partition)) ?? range.start,
  }))
  return {
    complete: partitions.every((p) => p.reached >= p.end),
    state: store.location,
    reducer: reducer.name,
    topics,
    resumed,
    events: result.events,
    aggregates: store.size,
    skippedCount: result.skippedCount,
    skipped: result.skipped,
    durationMs: result.durationMs,
    eventsPerSecond: result.durationMs > 0 ? Math.round((result.events * 1000) / result.durationMs) : result.events,
    partitions,
  }
}

/**
 * Where a resumed partition starts: the stored offset, checked against the log. Below the log
 * start, records were lost to retention (warned: the state misses them); past the end, the topic
 * was truncated or recreated (refused: the state describes another log).
 */
function resumeRange(
  range: PartitionRange,
  stored: number | undefined,
  warn: ((message: string) => void) | undefined,
  location: string,
): PartitionRange {
  if (stored === undefined) return range
  const end = range.end ?? range.start
  if (stored < range.start) {
    warn?.(
      `${range.topic}/${range.partition}: stored offset ${stored} is below the log start ${range.start}; ${range.start - stored} offsets were lost to retention and are missing from the state`,
    )
    return range
  }
  if (stored > end) {
    throw new ConfigError(
      `state ${location} has read ${range.topic}/${range.partition} up to ${stored}, past the log end ${end}: the topic was truncated or recreated`,
      {
        code: 'STATE_AHEAD_OF_LOG',
        where: { topic: range.topic, partition: range.partition, stored, end },
        suggestion: 'replay with --from-beginning',
      },
    )
  }
  return { ...range, start: stored }
}

/** Writes the final state: NDJSON (`{"aggregateId","state"}` per line) for .ndjson/.jsonl, else one JSON object. */
export async function writeState(file: string, entries: Iterable<[string, unknown]>): Promise<number> {
  const ndjson = /\.(ndjson|jsonl)$/i.test(file)
  const temporary = `${file}.tmp-${process.pid}`
  const out = createWriteStream(temporary)
  let count = 0
  const write = (text: string) => {
    if (!out.write(text)) return new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  if (!ndjson) await write('{\n')
  for (const [aggregateId, state] of entries) {
    if (ndjson) await write(`${JSON.stringify({ aggregateId, state })}\n`)
    else await write(`${count > 0 ? ',\n' : ''}  ${JSON.stringify(aggregateId)}: ${JSON.stringify(state)}`)
    count++
  }
  if (!ndjson) await write(count > 0 ? '\n}\n' : '}\n')
  out.end()
  await finished(out)
  await rename(temporary, file)
  return count
}
