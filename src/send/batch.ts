/**
 * `es send-command --batch <file|->`: NDJSON, one command per line
 * (`{"type","data","key"?,"id"?,"headers"?,"expectedVersion"?}`), produced from one process.
 *
 * Invariants:
 * - nothing is produced unless every line is valid and encodes: a first pass validates and
 *   encodes each line into temporary spool files (stdin is spooled to a file first; a large file
 *   is encoded by two threads, one per half, src/send/batch-encode.ts), a second streams the
 *   spools to the broker in file order; memory holds a read chunk and one produce request at a time;
 * - records of one key keep the file's order: they go to one partition (the service's
 *   partitioner), in order, on an idempotent producer with one request in flight;
 * - with `--wait`, the events stream's ends are fixed before producing, so no outcome is missed.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Worker } from 'node:worker_threads'
import type { ResolvedConfig } from '../config/types.js'
import type { DecodedEvent } from '../envelope/index.js'
import { ConfigError, fromThreadError, InternalError, InvalidDataError, UsageError } from '../errors.js'
import type { PartitionRange } from '../kafka/log-reader.js'
import { type PartitionerName, producerPartitioner } from '../kafka/partitioner.js'
import { type OutgoingRecord, openTopicProducer } from '../kafka/producer.js'
import { packageFile } from '../package-root.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import { encodeCommands, lineEndAfter } from './batch-encode.js'
import type { EncodeWorkerInput, EncodeWorkerMessage } from './encode-worker.js'
import { type CommandInput, commandPreparer, type PreparedCommand } from './prepare.js'

export interface BatchRequest {
  config: ResolvedConfig
  service?: string
  /** A file path, or `-` for stdin. */
  source: string
  /** The type of lines that name none (the positional TYPE). */
  type?: string
  topic?: string
  /** Overrides the service's partitioner (`--partitioner`). */
  partitioner?: PartitionerName
  wait?: { timeoutMs: number }
  stdin?: NodeJS.ReadableStream
  /** Told once the lines are encoded and producing starts, and as records are acknowledged. */
  onProgress?: (phase: 'encoded' | 'produced', count: number) => void
  runtime?: RuntimeOptions
}

export interface BatchResult {
  service: string
  topic: string
  /** Commands produced. */
  sent: number
  partitions: number
  durationMs: number
  commandsPerSecond: number
  /** With --wait: outcomes by distinct command id. */
  accepted?: number
  rejected?: number
  timedOut?: number
  /** With --wait: the first rejections (id, type of the rejection event). */
  rejections?: Array<{ id: string; event: string | undefined }>
}

/**
 * Bounds of one produce request: per partition well under the broker's default message.max.bytes.
 * Requests four times as large produced 1M commands no faster (2.6 s either way) with ~30 MB more.
 */
const PARTITION_BYTES = 128 * 1024
const REQUEST_BYTES = 384 * 1024
const LISTED_REJECTIONS = 20
/** Batch files this large are encoded by two threads (pass 1 is CPU-bound: JSON, schemas, envelope). */
const SPLIT_BYTES = 8 * 1024 * 1024

export async function sendBatch(request: BatchRequest): Promise<BatchResult> {
  const runtime = openRuntime(request.config, request.service, request.runtime)
  const { service } = runtime
  const spoolDir = await mkdtemp(join(tmpdir(), 'es-batch-'))
  try {
    const preparer = commandPreparer(runtime, request.topic)
    const { topic } = preparer
    if (request.type !== undefined) preparer.spec(request.type)
    if (request.wait) {
      if (service.streams.events.length === 0) {
        throw new ConfigError('--wait needs the service events stream in the config', { code: 'NO_STREAM' })
      }
      if (service.waitFor === 'aggregate') {
        throw new UsageError('--batch --wait needs events that carry the command id (waitFor: aggregate)', {
          code: 'USAGE',
          suggestion: 'send without --wait, and check the outcomes with es tail events',
        })
      }
    }
    let input = request.source
    if (input === '-') {
      input = join(spoolDir, 'stdin.ndjson')
      await pipeline(request.stdin ?? process.stdin, createWriteStream(input))
    }
    const ids = request.wait ? new Set<string>() : undefined
    const encodeStarted = performance.now()
    const { count, spools } = await encodeBatch(request, input, spoolDir, preparer.prepare, ids)
    request.onProgress?.('encoded', count)
    request.runtime?.debug?.(
      `--batch: ${count} commands validated and encoded in ${Math.round(performance.now() - encodeStarted)} ms`,
    )

    const eventRanges: PartitionRange[] | undefined = request.wait
      ? await runtime.reader.resolveRanges(service.streams.events, { from: { kind: 'end' } })
      : undefined
    const started = performance.now()
    const producer = await openTopicProducer(request.config.kafka, topic, { debug: request.runtime?.debug })
    try {
      const partitionOf = producerPartitioner(request.partitioner ?? service.partitioner, producer.partitions)
      let produced = 0
      const pending: Array<Array<OutgoingRecord & { partition: number }>> = Array.from(
        { length: producer.partitions },
        () => [],
      )
      const bytes = new Array<number>(producer.partitions).fill(0)
      let total = 0
      const flush = async () => {
        const records = pending.flat()
        if (records.length === 0) return
        for (let p = 0; p < pending.length; p++) {
          pending[p] = []
          bytes[p] = 0
        }
        total = 0
        await producer.send(records)
        produced += records.length
        request.onProgress?.('produced', produced)
      }
      for await (const records of readSpools(spools)) {
        for (const record of records) {
          const partition = partitionOf(record.key)
          const size = (record.key?.length ?? 0) + (record.value?.length ?? 0) + record.headerBytes + 32
          if (bytes[partition] + size > PARTITION_BYTES || total + size > REQUEST_BYTES) await flush()
          pending[partition].push({ topic, key: record.key, value: record.value, headers: record.headers, partition })
          bytes[partition] += size
          total += size
        }
      }
      await flush()
      request.runtime?.debug?.(`--batch: ${produced} records produced in ${Math.round(performance.now() - started)} ms`)
      const durationMs = Math.round(performance.now() - started)
      const result: BatchResult = {
        service: service.name,
        topic,
        sent: produced,
        partitions: producer.partitions,
        durationMs,
        commandsPerSecond: durationMs > 0 ? Math.round((produced * 1000) / durationMs) : produced,
      }
      if (!request.wait || !eventRanges || !ids) return result
      return { ...result, ...(await waitForOutcomes(runtime, eventRanges, ids, request.wait.timeoutMs)) }
    } finally {
      await producer.close()
    }
  } finally {
    await runtime.close()
    await rm(spoolDir, { recursive: true, force: true })
  }
}

/**
 * Pass 1: every line encoded into spool files, in file order. A file of SPLIT_BYTES or more is
 * encoded by two threads, this one up to a line end near its middle and a worker from there; the
 * first bad line in file order is the one reported, and nothing is produced either way.
 */
async function encodeBatch(
  request: BatchRequest,
  file: string,
  spoolDir: string,
  prepare: (command: CommandInput) => PreparedCommand | Promise<PreparedCommand>,
  ids: Set<string> | undefined,
): Promise<{ count: number; spools: string[] }> {
  const name = request.source === '-' ? 'stdin' : request.source
  const onId = ids ? (id: string) => ids.add(id) : undefined
  const first = join(spoolDir, 'records-1.bin')
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  )
  const split = size >= SPLIT_BYTES ? await lineEndAfter(file, Math.floor(size / 2)) : undefined
  let count: number
  const spools = [first]
  if (split === undefined || split >= size) {
    count = await encodeCommands({ file, name }, first, prepare, request.type, onId)
  } else {
    const second = join(spoolDir, 'records-2.bin')
    spools.push(second)
    const input: EncodeWorkerInput = {
      config: request.config,
      service: request.service,
      topic: request.topic,
      type: request.type,
      source: { file, name, start: split },
      spool: second,
      collectIds: ids !== undefined,
    }
    const worker = new Worker(packageFile('dist/src/send/encode-worker.js'), { workerData: input })
    const rest = new Promise<{ count: number; ids: string[] }>((resolve, reject) => {
      worker.once('message', (message: EncodeWorkerMessage) =>
        message.kind === 'done' ? resolve(message) : reject(fromThreadError(message)),
      )
      worker.once('error', (error) =>
        reject(new InternalError(`internal error in a --batch worker: ${error.message}`, { code: 'INTERNAL' })),
      )
      worker.once('exit', (code) =>
        reject(new InternalError(`a --batch worker stopped (exit ${code})`, { code: 'INTERNAL' })),
      )
    })
    rest.catch(() => {})
    try {
      const head = await encodeCommands({ file, name, end: split }, first, prepare, request.type, onId)
      const tail = await rest
      for (const id of tail.ids) ids?.add(id)
      count = head + tail.count
    } finally {
      await worker.terminate()
    }
  }
  if (count === 0) throw new InvalidDataError(`--batch ${name} has no commands`, { code: 'EMPTY_BATCH' })
  return { count, spools }
}

interface SpooledRecord {
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, string>
  headerBytes: number
}

/** Pass 2: the spools' records in order, read in large chunks (the records of each chunk at once). */
async function* readSpools(files: string[]): AsyncGenerator<SpooledRecord[]> {
  for (const file of files) yield* readSpool(file)
}

async function* readSpool(file: string): AsyncGenerator<SpooledRecord[]> {
  let rest: Buffer = Buffer.alloc(0)
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    const data: Buffer = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer)
    const records: SpooledRecord[] = []
    let at = 0
    for (;;) {
      const frame = readFrame(data, at)
      if (!frame) break
      at = frame.next
      records.push(frame.record)
    }
    rest = data.subarray(at)
    yield records
  }
}

/** The headers of most commands: none (never changed by the producer). */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

function readFrame(data: Buffer, start: number): { record: SpooledRecord; next: number } | undefined {
  let at = start
  const part = (): Buffer | null | undefined => {
    if (at + 4 > data.length) return undefined
    const length = data.readInt32BE(at)
    if (length < 0) {
      at += 4
      return null
    }
    if (at + 4 + length > data.length) return undefined
    const bytes = data.subarray(at + 4, at + 4 + length)
    at += 4 + length
    return bytes
  }
  const key = part()
  if (key === undefined) return undefined
  const value = part()
  if (value === undefined) return undefined
  const headers = part()
  if (headers === undefined || headers === null) return undefined
  return {
    record: {
      key,
      value,
      headers:
        headers.length === 2 && headers[0] === 0x7b && headers[1] === 0x7d
          ? NO_HEADERS
          : JSON.parse(headers.toString('utf8')),
      headerBytes: headers.length,
    },
    next: at,
  }
}

/** Follows the events stream from the ends fixed before producing until each command has an outcome. */
async function waitForOutcomes(
  runtime: ReturnType<typeof openRuntime>,
  ranges: PartitionRange[],
  ids: Set<string>,
  timeoutMs: number,
): Promise<Pick<BatchResult, 'accepted' | 'rejected' | 'timedOut' | 'rejections'>> {
  const { service } = runtime
  const decode = await runtime.decoder()
  const pending = new Set(ids)
  let accepted = 0
  let rejected = 0
  const rejections: BatchResult['rejections'] = []
  const stop = new AbortController()
  const deadline = setTimeout(() => stop.abort(), timeoutMs)
  try {
    for await (const batch of runtime.reader.read(ranges, { signal: stop.signal })) {
      for (const record of batch.records) {
        let event: DecodedEvent
        try {
          event = await decode(record)
        } catch {
          continue // an undecodable event cannot name our command
        }
        const id = [event.causationId, event.correlationId].find(
          (candidate): candidate is string => typeof candidate === 'string' && pending.has(candidate),
        )
        if (id === undefined) continue
        pending.delete(id)
        if (event.type !== undefined && service.rejections.includes(event.type)) {
          rejected++
          if (rejections.length < LISTED_REJECTIONS) rejections.push({ id, event: event.type })
        } else {
          accepted++
        }
      }
      if (pending.size === 0) stop.abort()
    }
  } finally {
    clearTimeout(deadline)
  }
  return { accepted, rejected, timedOut: pending.size, rejections }
}
