/**
 * The log reader on a real cluster, through kafkajs 2.2.4 internals (src/kafka/kafkajs-internals.ts)
 * and without consumer groups: partitions are read directly from their leaders, nothing is joined
 * or committed.
 *
 * How a read works:
 * - One fetch loop per leader broker sends one Fetch request (read committed) for all the
 *   partitions that broker leads, decodes only the batch headers (src/kafka/record-batch.ts) to
 *   know where each partition continues, queues the batches and sends the next request at once:
 *   the broker works on fetch N+1 while the caller consumes fetch N. Records are decoded when the
 *   caller takes a batch, so memory holds raw bytes (at most `bufferBytes` queued), not objects.
 * - A bounded partition is done when its position reaches its end; it is then no longer fetched.
 *   Ranges that start at their end are never fetched at all.
 * - Partition order rotates between requests, so every partition is regularly the first one,
 *   which the broker always serves (KIP-74: at least one batch, however large).
 * - Lost connections are retried (metadata refresh, then the leader again) for up to
 *   `connectionTimeoutMs`, partitions without a leader for up to `requestTimeoutMs`; then
 *   UnreachableError. A read that follows the log (no range has an end) instead waits out an
 *   outage of any length, retrying with backoff while it runs, and says once that the connection
 *   is lost and once that it is back (`onConnection`); it continues at the positions it had, so no
 *   record is lost or repeated. TLS and authentication failures end any read at once. A topic
 *   deleted during the read ends it with NotFoundError.
 * - Records of a partition are delivered in offset order; partitions interleave.
 */
import type { KafkaConnection } from '../config/types.js'
import { EsError, InternalError, NotFoundError, UnreachableError } from '../errors.js'
import { loadTopics, openCluster, topicNames } from './cluster.js'
import { decompressRecords } from './compression.js'
import {
  type ClientOptions,
  connectTimeout,
  connectWithin,
  isAuthenticationFailure,
  isConnectionFailure,
  kafkaClientConfig,
  toEsError,
  withDeadline,
} from './connection.js'
import { ConnectionWatch } from './connection-watch.js'
import { decodeFetchResponse, type FetchResponse } from './fetch-response.js'
import {
  type KafkajsBroker,
  type KafkajsCluster,
  type KafkajsInternals,
  loadKafkajsInternals,
} from './kafkajs-internals.js'
import {
  describePartitions,
  type LogReader,
  type PartitionOffset,
  type PartitionRange,
  type PartitionWatermarks,
  type ReadOptions,
  type RecordBatch,
  type ResolveOptions,
  resolvePartitionRanges,
} from './log-reader.js'
import { decodeScannedRecords, type ScannedRecordSet, scanRecordSet } from './record-batch.js'

export interface KafkaLogReaderOptions extends ClientOptions {
  /** How long a fetch waits on the broker when there is nothing new (follow mode). Default 100 ms. */
  maxWaitMs?: number
  /**
   * Bytes per fetch request. Default 2 MiB: on the 1M-record benchmark (test/bench/read-throughput.ts)
   * 1–4 MiB read fastest and 16–32 MiB were slower (more GC) and doubled the peak RSS; 2 MiB
   * replays as fast as 4 MiB and a file-backed replay peaks ≈ 45 MB lower (218–232 MB vs 267–310 MB).
   */
  maxBytes?: number
  /** Bytes per partition per fetch request. Default 1 MiB (the Java and librdkafka default). */
  partitionMaxBytes?: number
  /** Fetched bytes waiting for the caller before a loop holds its next fetch. Default 2 × maxBytes. */
  bufferBytes?: number
}

const MiB = 1024 * 1024
/**
 * The first fetch of each broker's loop asks for this many bytes per partition, each next one for
 * twice as many, up to the settings: the first records come without reading and decoding a full
 * fetch (`es tail --limit 1` decoded ≈ 5,000 records of the sample bank for one), and a long read is
 * at full size after five fetches.
 */
const FIRST_FETCH_PARTITION_BYTES = 64 * 1024
const READ_COMMITTED = 1
const FETCH_API_KEY = 1
/** Fetch v4 introduced isolation levels, last stable offsets and aborted transactions. */
const MIN_FETCH_VERSION = 4
const OFFSET_OUT_OF_RANGE = 1
const UNKNOWN_TOPIC_OR_PARTITION = 3

interface Session {
  kafkajs: KafkajsInternals
  cluster: KafkajsCluster
  watch: ConnectionWatch
}

export class KafkaLogReader implements LogReader {
  private session?: Promise<Session>
  private readonly runs = new Set<FetchRun>()

  constructor(
    readonly connection: KafkaConnection,
    private readonly options: KafkaLogReaderOptions = {},
  ) {}

  async topics(): Promise<string[]> {
    return this.call('listing topics', ({ cluster }) => topicNames(cluster))
  }

  async partitions(topic: string): Promise<number[]> {
    return this.call(`reading the metadata of ${topic}`, async (session) => {
      await loadTopics(session.cluster, [topic])
      return session.cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b)
    })
  }

  async watermarks(topic: string): Promise<PartitionWatermarks[]> {
    return this.call(`reading the offsets of ${topic}`, async (session) => {
      const partitions = await this.partitions(topic)
      const [starts, ends] = await Promise.all([
        listOffsets(session.cluster, topic, partitions, { fromBeginning: true }),
        listOffsets(session.cluster, topic, partitions, { fromBeginning: false }),
      ])
      return partitions.map((partition) => ({
        partition,
        start: starts.get(partition) ?? 0,
        end: ends.get(partition) ?? 0,
      }))
    })
  }

  async offsetsForTime(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    return this.call(`looking up offsets by time in ${topic}`, async (session) => {
      const partitions = await this.partitions(topic)
      const [found, ends] = await Promise.all([
        listOffsets(session.cluster, topic, partitions, { fromTimestamp: timestamp }),
        listOffsets(session.cluster, topic, partitions, { fromBeginning: false }),
      ])
      return partitions.map((partition) => {
        const offset = found.get(partition) ?? -1
        const end = ends.get(partition) ?? 0
        // -1: no record at or after the time; an offset past the last stable one is not readable yet.
        return { partition, offset: offset < 0 || offset > end ? end : offset }
      })
    })
  }

  resolveRanges(topics: string[], options: ResolveOptions): Promise<PartitionRange[]> {
    return resolvePartitionRanges(this, topics, options)
  }

  async *read(ranges: PartitionRange[], options: ReadOptions = {}): AsyncGenerator<RecordBatch> {
    const pending = ranges.filter((r) => r.end === undefined || r.start < r.end)
    if (pending.length === 0 || options.signal?.aborted) return
    const seen = new Set<string>()
    for (const range of pending) {
      const key = partitionKey(range.topic, range.partition)
      if (seen.has(key)) {
        throw new InternalError(`${key} appears twice in one read`, { code: 'DUPLICATE_RANGE', where: { ...range } })
      }
      seen.add(key)
    }
    const session = await this.call('connecting', async (s) => s)
    const maxBytes = options.maxBytes ?? this.options.maxBytes ?? 2 * MiB
    const run = new FetchRun(this, session, pending, {
      maxWaitMs: options.maxWaitMs ?? this.options.maxWaitMs ?? 100,
      maxBytes,
      partitionMaxBytes: Math.min(this.options.partitionMaxBytes ?? MiB, maxBytes),
      bufferBytes: this.options.bufferBytes ?? 2 * maxBytes,
      signal: options.signal,
      onConnection: options.onConnection,
    })
    this.runs.add(run)
    try {
      yield* run.batches()
    } finally {
      run.stop()
      this.runs.delete(run)
    }
  }

  async close(): Promise<void> {
    for (const run of this.runs) run.stop()
    const session = this.session
    this.session = undefined
    if (session) await session.then((s) => s.cluster.disconnect()).catch(() => {})
  }

  /**
   * Runs `work` on the session. Leader errors (a topic just created, a leader moving) refresh the
   * metadata and retry, for up to the connection timeout; anything else fails at once.
   */
  async call<T>(action: string, work: (session: Session) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.connection.connectionTimeoutMs
    for (let attempt = 0; ; attempt++) {
      try {
        return await work(await this.connect())
      } catch (error) {
        if (isLeaderError(error) && Date.now() < deadline) {
          const session = await this.connect()
          await session.cluster.refreshMetadata().catch(() => {})
          await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 1000)))
          continue
        }
        throw toEsError(this.watch?.fatal ?? error, this.connection, action)
      }
    }
  }

  private watch?: ConnectionWatch

  private connect(): Promise<Session> {
    this.session ??= this.openSession()
    return this.session
  }

  private async openSession(): Promise<Session> {
    const kafkajs = loadKafkajsInternals()
    const watch = new ConnectionWatch(this.connection)
    this.watch = watch
    const config = kafkaClientConfig(this.connection, { ...this.options, watch })
    // ListOffsets "latest" then answers the last stable offset.
    const { cluster } = openCluster(config, { maxInFlightRequests: null, isolationLevel: READ_COMMITTED })
    try {
      await connectWithin(this.connection, watch, cluster.connect(), () => cluster.disconnect())
    } catch (error) {
      this.session = undefined
      // Not awaited: disconnecting waits for the requests that did not get an answer.
      cluster.disconnect().catch(() => {})
      throw error
    }
    return { kafkajs, cluster, watch }
  }
}

async function listOffsets(
  cluster: KafkajsCluster,
  topic: string,
  partitions: number[],
  at: { fromBeginning: boolean } | { fromTimestamp: number },
): Promise<Map<number, number>> {
  const [result] = await cluster.fetchTopicsOffset([
    { topic, partitions: partitions.map((partition) => ({ partition })), ...at },
  ])
  return new Map((result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
}

interface Cursor {
  topic: string
  partition: number
  /** The next offset to fetch. */
  position: number
  end?: number
  /** Node id of the partition's leader, -1 while unknown. */
  leader: number
  /** Since when fetches of this partition have failed with retriable errors. */
  failingSince?: number
}

interface FetchSettings {
  maxWaitMs: number
  maxBytes: number
  partitionMaxBytes: number
  bufferBytes: number
  signal?: AbortSignal
  onConnection?: ReadOptions['onConnection']
}

/** Scanned record sets waiting for the caller, with the position after each. */
type QueuedSet = ScannedRecordSet

/** One `read()`: the cursors, one fetch loop per leader, and the queue between loops and caller. */
class FetchRun {
  private readonly cursors: Cursor[]
  private readonly queue: QueuedSet[] = []
  private queuedBytes = 0
  private readonly loops = new Map<number, object>()
  private failure: unknown
  private stopped = false
  private wakeCaller?: () => void
  /** Since when a follow has been without its broker; undefined while connected. */
  private outageSince?: number
  private spaceWaiters: Array<() => void> = []
  private readonly onAbort = () => this.stop()

  constructor(
    private readonly reader: KafkaLogReader,
    private readonly session: Session,
    ranges: PartitionRange[],
    private readonly settings: FetchSettings,
  ) {
    this.cursors = ranges.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      position: r.start,
      ...(r.end === undefined ? {} : { end: r.end }),
      leader: -1,
    }))
    settings.signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  async *batches(): AsyncGenerator<RecordBatch> {
    await this.reader.call('reading partition metadata', async () => {
      await this.locate(this.cursors)
    })
    for (const leader of new Set(this.cursors.map((c) => c.leader))) this.startLoop(leader)
    while (true) {
      if (this.failure !== undefined) throw this.failure
      if (this.stopped) return
      const set = this.queue.shift()
      if (set !== undefined) {
        this.release(set.bytes)
        const records = await decodeScannedRecords(set, decompressRecords)
        yield { topic: set.topic, partition: set.partition, records, position: set.nextOffset }
        continue
      }
      if (this.loops.size === 0) return
      await new Promise<void>((resolve) => {
        this.wakeCaller = resolve
      })
    }
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.settings.signal?.removeEventListener('abort', this.onAbort)
    this.wake()
    for (const resolve of this.spaceWaiters.splice(0)) resolve()
  }

  private fail(error: unknown): void {
    if (this.stopped) return
    this.failure ??= error
    this.stop()
  }

  private wake(): void {
    const wake = this.wakeCaller
    this.wakeCaller = undefined
    wake?.()
  }

  private enqueue(set: QueuedSet): void {
    this.queue.push(set)
    this.queuedBytes += set.bytes
    this.wake()
  }

  private release(bytes: number): void {
    this.queuedBytes -= bytes
    if (this.queuedBytes < this.settings.bufferBytes) for (const resolve of this.spaceWaiters.splice(0)) resolve()
  }

  private async waitForSpace(): Promise<void> {
    while (!this.stopped && this.queuedBytes >= this.settings.bufferBytes)
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve))
  }

  private startLoop(leader: number): void {
    if (this.stopped || this.loops.has(leader)) return
    const token = {}
    this.loops.set(leader, token)
    this.runLoop(leader, token)
      .catch((error) => this.fail(toEsError(error, this.reader.connection, 'reading')))
      .finally(() => {
        if (this.loops.get(leader) === token) this.loops.delete(leader)
        this.wake()
      })
  }

  private isDone(cursor: Cursor): boolean {
    return cursor.end !== undefined && cursor.position >= cursor.end
  }

  private async runLoop(leader: number, token: object): Promise<void> {
    let rotation = 0
    let failingSince: number | undefined
    let failures = 0
    let relocate = false
    let partitionBytes = Math.min(FIRST_FETCH_PARTITION_BYTES, this.settings.partitionMaxBytes)
    while (!this.stopped) {
      const led = this.cursors.filter((c) => c.leader === leader && !this.isDone(c))
      if (led.length === 0) {
        // Synchronously with the check: a cursor moved here later starts a new loop.
        if (this.loops.get(leader) === token) this.loops.delete(leader)
        return
      }
      await this.waitForSpace()
      if (this.stopped) return
      const shift = rotation++ % led.length
      const cursors = [...led.slice(shift), ...led.slice(0, shift)]
      try {
        if (relocate) {
          // Some cursors may have another leader now: the loop looks at its partitions again.
          await this.relocateWithin(cursors, leader)
          relocate = false
          continue
        }
        const broker = await this.session.cluster.findBroker({ nodeId: leader })
        const response = await this.fetch(broker, cursors, partitionBytes)
        partitionBytes = Math.min(2 * partitionBytes, this.settings.partitionMaxBytes)
        if (this.stopped) return
        failingSince = undefined
        failures = 0
        this.connectionBack()
        await this.handle(response, cursors, leader)
      } catch (error) {
        if (this.stopped) return
        if (this.session.watch.fatal) throw this.session.watch.fatal
        if (!isOutage(error)) throw error
        failingSince ??= Date.now()
        const following = cursors.every((c) => c.end === undefined)
        if (!following && Date.now() - failingSince > this.reader.connection.connectionTimeoutMs) throw error
        if (following) this.connectionLost(error)
        await sleep(following ? Math.min(250 * 2 ** failures++, 5000) : 250)
        relocate = true
      }
    }
  }

  /** A follow lost its broker: said once per outage. */
  private connectionLost(error: unknown): void {
    if (this.outageSince !== undefined) return
    this.outageSince = Date.now()
    const cause = toEsError(error, this.reader.connection, 'following')
    const detail = cause instanceof Error ? cause.message : String(cause)
    this.settings.onConnection?.('lost', `${detail}; waiting for it to come back (Ctrl-C stops)`)
  }

  /** A fetch succeeded: if the follow was waiting for its broker, says it is back. */
  private connectionBack(): void {
    if (this.outageSince === undefined) return
    const seconds = Math.round((Date.now() - this.outageSince) / 1000)
    this.outageSince = undefined
    this.settings.onConnection?.(
      'back',
      `Kafka at ${this.reader.connection.brokers.join(',')} answers again after ${seconds} s; following on`,
    )
  }

  private async fetch(broker: KafkajsBroker, cursors: Cursor[], partitionBytes: number): Promise<FetchResponse> {
    const brokerMax = broker.versions?.[FETCH_API_KEY]?.maxVersion ?? 0
    const version = Math.min(this.session.kafkajs.fetchMaxVersion, brokerMax)
    if (version < MIN_FETCH_VERSION) {
      throw new UnreachableError(
        `the broker ${broker.nodeId} does not support read-committed fetches (Fetch v${brokerMax})`,
        {
          code: 'KAFKA_TOO_OLD',
          suggestion: 'es needs Kafka 0.11 or newer',
        },
      )
    }
    // Topics in first-seen order, so the first cursor is the first partition of the request.
    const topics = new Map<string, Array<{ partition: number; fetchOffset: number; maxBytes: number }>>()
    for (const c of cursors) {
      const partitions = topics.get(c.topic) ?? []
      topics.set(c.topic, partitions)
      partitions.push({ partition: c.partition, fetchOffset: c.position, maxBytes: partitionBytes })
    }
    const { request, requestTimeout } = this.session.kafkajs.fetchRequest(version, {
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: this.settings.maxWaitMs,
      minBytes: 1,
      maxBytes: this.settings.maxBytes,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
      rackId: '',
    })
    try {
      return (await broker.connectionPool.send({
        request,
        requestTimeout,
        response: {
          decode: async (payload: Buffer) => {
            const decoded = decodeFetchResponse(payload, version)
            // kafkajs's connection throttles itself by this field (KIP-219).
            return Object.assign(decoded, { clientSideThrottleTime: decoded.throttleTimeMs })
          },
          parse: async (decoded: unknown) => decoded,
        },
      })) as FetchResponse
    } catch (error) {
      if (isConnectionFailure(error)) await broker.disconnect().catch(() => {})
      throw error
    }
  }

  /**
   * Applies one response: positions move, record sets are queued. The cursors' positions are still
   * those sent: only the loop of a cursor's leader moves it, one request at a time.
   */
  private async handle(response: FetchResponse, cursors: Cursor[], leader: number): Promise<void> {
    if (response.errorCode !== 0) throw this.session.kafkajs.protocolError(response.errorCode)
    const byKey = new Map(cursors.map((c) => [partitionKey(c.topic, c.partition), c]))
    const first = cursors[0]
    const moved: Cursor[] = []
    for (const fetched of response.partitions) {
      const cursor = byKey.get(partitionKey(fetched.topic, fetched.partition))
      if (cursor === undefined || cursor.leader !== leader) continue
      if (fetched.errorCode === OFFSET_OUT_OF_RANGE) {
        await this.resetOutOfRange(cursor)
        continue
      }
      if (fetched.errorCode !== 0) {
        const error = this.session.kafkajs.protocolError(fetched.errorCode)
        if (!error.retriable) throw error
        cursor.failingSince ??= Date.now()
        if (Date.now() - cursor.failingSince > this.reader.connection.requestTimeoutMs) {
          throw this.partitionUnavailable(cursor, error, fetched.errorCode)
        }
        moved.push(cursor)
        continue
      }
      cursor.failingSince = undefined
      const scanned = scanRecordSet(fetched.records, {
        topic: cursor.topic,
        partition: cursor.partition,
        fetchOffset: cursor.position,
        ...(cursor.end === undefined ? {} : { end: cursor.end }),
        abortedTransactions: fetched.abortedTransactions,
      })
      if (
        scanned.batches === 0 &&
        fetched.records.length === 0 &&
        cursor === first &&
        fetched.lastStableOffset > cursor.position
      ) {
        // Served first, the partition had the whole response to itself and returned nothing
        // below its last stable offset: compaction removed everything there, and an open
        // transaction holds the offsets after it. Skip the gap instead of waiting for that
        // transaction to end.
        scanned.nextOffset =
          cursor.end === undefined ? fetched.lastStableOffset : Math.min(fetched.lastStableOffset, cursor.end)
      }
      if (scanned.deliverable.length > 0 || scanned.nextOffset > cursor.position) this.enqueue(scanned)
      cursor.position = scanned.nextOffset
    }
    if (moved.length > 0) {
      await sleep(100)
      await this.relocateWithin(moved, leader)
    }
  }

  private partitionUnavailable(cursor: Cursor, error: Error & { type: string }, code: number): EsError {
    if (code === UNKNOWN_TOPIC_OR_PARTITION) {
      return new NotFoundError(`${cursor.topic}/${cursor.partition} no longer exists`, {
        code: 'PARTITION_NOT_FOUND',
        where: { topic: cursor.topic, partition: cursor.partition, offset: cursor.position },
      })
    }
    return new UnreachableError(
      `${cursor.topic}/${cursor.partition} has been unavailable for ${this.reader.connection.requestTimeoutMs} ms (${error.type})`,
      {
        code: 'PARTITION_UNAVAILABLE',
        suggestion: 'check the brokers that host it',
        where: { topic: cursor.topic, partition: cursor.partition, offset: cursor.position },
        cause: error,
      },
    )
  }

  /** The position fell out of the log (retention, truncation): continue at the nearest offset that exists. */
  private async resetOutOfRange(cursor: Cursor): Promise<void> {
    const [starts, ends] = await Promise.all([
      listOffsets(this.session.cluster, cursor.topic, [cursor.partition], { fromBeginning: true }),
      listOffsets(this.session.cluster, cursor.topic, [cursor.partition], { fromBeginning: false }),
    ])
    const start = starts.get(cursor.partition) ?? cursor.position
    const end = ends.get(cursor.partition) ?? cursor.position
    let position = Math.min(Math.max(cursor.position, start), end)
    if (cursor.end !== undefined) position = Math.min(position, cursor.end)
    if (position !== cursor.position) {
      this.enqueue({
        topic: cursor.topic,
        partition: cursor.partition,
        fetchOffset: position,
        abortedTransactions: [],
        deliverable: [],
        nextOffset: position,
        batches: 0,
        bytes: 0,
      })
      cursor.position = position
    }
  }

  /** Finds the leaders of `cursors` from fresh metadata, within the connection timeout. */
  private async relocateWithin(cursors: Cursor[], leader: number): Promise<void> {
    await withDeadline(
      (async () => {
        try {
          await this.session.cluster.refreshMetadata()
        } catch (error) {
          if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error
          const existing = new Set(await this.reader.topics())
          const gone = this.cursors.find((c) => !existing.has(c.topic))
          if (gone === undefined) throw error
          throw new NotFoundError(`topic "${gone.topic}" was deleted while reading it`, {
            code: 'TOPIC_NOT_FOUND',
            where: { topic: gone.topic, partition: gone.partition, offset: gone.position },
          })
        }
        await this.locate(cursors)
      })(),
      this.reader.connection.connectionTimeoutMs,
      () => connectTimeout(this.reader.connection),
    )
    for (const c of cursors) if (c.leader !== leader) this.startLoop(c.leader)
  }

  /** Sets each cursor's leader from the cluster metadata (loading it for their topics). */
  private async locate(cursors: Cursor[]): Promise<void> {
    const topics = [...new Set(cursors.map((c) => c.topic))]
    await loadTopics(this.session.cluster, topics)
    for (const topic of topics) {
      const metadata = this.session.cluster.findTopicPartitionMetadata(topic)
      for (const cursor of cursors.filter((c) => c.topic === topic)) {
        const partition = metadata.find((p) => p.partitionId === cursor.partition)
        if (partition === undefined) {
          throw new NotFoundError(`topic "${topic}" has no partition ${cursor.partition}`, {
            code: 'PARTITION_NOT_FOUND',
            suggestion: `its partitions are ${describePartitions(metadata.map((p) => p.partitionId))}`,
            where: { topic, partition: cursor.partition },
          })
        }
        cursor.leader = partition.leader
      }
    }
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

const LEADER_ERRORS = new Set(['NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE'])

/**
 * Errors a broker outage causes (connection lost or refused, requests timing out, our own
 * "did not answer" deadline), as opposed to ones no retry fixes (authentication, TLS, data).
 */
function isOutage(error: unknown): boolean {
  if (error instanceof EsError) return error instanceof UnreachableError && error.code === 'KAFKA_UNREACHABLE'
  return isConnectionFailure(error) && !isAuthenticationFailure(error)
}

/** kafkajs protocol errors that mean "ask again after refreshing metadata". */
function isLeaderError(error: unknown): boolean {
  const type = (error as { type?: string } | undefined)?.type
  return type !== undefined && LEADER_ERRORS.has(type)
}
