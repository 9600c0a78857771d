/**
 * Decoding of Kafka record batches (message format v2, magic 2) as a fetch returns them, straight
 * into `KafkaRecord`s, applying the read-committed rules of the Java consumer (Fetcher /
 * CompletedFetch):
 * - records below the fetch offset are dropped (a fetch returns whole batches, which can start
 *   before the requested offset, e.g. compressed or compacted ones);
 * - control batches (transaction markers) and batches of aborted transactions are dropped;
 * - the position moves past every complete batch, dropped or empty (compaction can leave a batch
 *   with no records), to `baseOffset + lastOffsetDelta + 1`: progress never depends on a record
 *   being delivered (kafkajs #562/#1072 advance one offset per fetch instead);
 * - a batch cut off at the end of the response is ignored: the next fetch starts there;
 * - nothing at or beyond `end` is delivered, and the position never passes `end`.
 *
 * Pure. Scanning (batch headers only) is synchronous; decoding awaits only decompression, which is
 * injected (kafkajs's codecs at run time).
 * CRCs are not verified (like librdkafka's default, unlike the Java consumer's).
 */

import { InvalidDataError } from '../errors.js'
import { CODEC_NAMES } from './compression.js'
import type { KafkaRecord } from './record.js'

export interface AbortedTransaction {
  producerId: bigint
  firstOffset: number
}

export interface RecordSetContext {
  topic: string
  partition: number
  fetchOffset: number
  /** Exclusive end of the range; undefined when following the log. */
  end?: number
  /** From the fetch response, for read-committed filtering. */
  abortedTransactions: AbortedTransaction[]
}

/** Decompresses a batch's records for compression codec 1 (gzip), 2 (snappy), 3 (lz4) or 4 (zstd). */
export type Decompress = (codec: number, data: Buffer) => Promise<Buffer>

/** A batch whose records are to be delivered: its header fields and its (maybe compressed) records. */
export interface DeliverableBatch {
  baseOffset: number
  baseTimestamp: number
  /** Set for LOG_APPEND_TIME batches: every record's timestamp. */
  logAppendTime?: number
  codec: number
  recordCount: number
  body: Buffer
}

/**
 * The outcome of scanning a fetched record set's batch headers: which batches deliver records, and
 * where the next fetch starts. Scanning is cheap (headers only), so a fetch loop can send the next
 * request before any record is decoded.
 */
export interface ScannedRecordSet extends RecordSetContext {
  deliverable: DeliverableBatch[]
  /** Where the next fetch starts: past every complete batch of the set, at most `end`. */
  nextOffset: number
  /** Complete batches seen (including dropped ones). */
  batches: number
  /** Bytes of the deliverable batches' bodies. */
  bytes: number
}

const BATCH_HEADER_BYTES = 61 // baseOffset(8) + batchLength(4) up to and including recordCount
const LOG_OVERHEAD = 12 // baseOffset(8) + batchLength(4)
const COMPRESSION_MASK = 0x07
const LOG_APPEND_TIME_FLAG = 0x08
const TRANSACTIONAL_FLAG = 0x10
const CONTROL_FLAG = 0x20
const ABORT_MARKER = 0

export function scanRecordSet(data: Buffer, context: RecordSetContext): ScannedRecordSet {
  const { topic, partition, fetchOffset, end } = context
  const deliverable: DeliverableBatch[] = []
  let nextOffset = fetchOffset
  let batches = 0
  let bytes = 0
  // Aborted transactions in firstOffset order; a producer id enters the aborted set once the
  // batches reach its first offset, and leaves it at its abort marker.
  const aborted = [...context.abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset)
  let nextAborted = 0
  const abortedProducers = new Set<bigint>()

  let at = 0
  while (data.length - at >= LOG_OVERHEAD) {
    const baseOffset = Number(data.readBigInt64BE(at))
    // The set is a contiguous slice of the log: no record lives between the previous batch and
    // this one, so reaching a batch at or beyond the end completes the range.
    if (end !== undefined && baseOffset >= end) {
      nextOffset = end
      break
    }
    const batchLength = data.readInt32BE(at + 8)
    const batchEnd = at + LOG_OVERHEAD + batchLength
    if (batchEnd > data.length || batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD) break // cut off: fetch it next time
    const magic = data.readInt8(at + 16)
    if (magic !== 2) {
      throw new InvalidDataError(
        `${topic}/${partition}@${baseOffset} is in the legacy message format v${magic}, which es does not read`,
        {
          code: 'UNSUPPORTED_MESSAGE_FORMAT',
          suggestion: 'rewrite the topic with a current client (message format v2, Kafka 0.11 or newer)',
          where: { topic, partition, offset: baseOffset },
        },
      )
    }
    const attributes = data.readInt16BE(at + 21)
    const lastOffset = baseOffset + data.readInt32BE(at + 23)
    const producerId = data.readBigInt64BE(at + 43)
    const recordCount = data.readInt32BE(at + 57)
    const recordsStart = at + BATCH_HEADER_BYTES
    const batchStart = at
    at = batchEnd
    batches++
    nextOffset = Math.max(nextOffset, lastOffset + 1)

    if (producerId >= 0n) {
      while (nextAborted < aborted.length && aborted[nextAborted].firstOffset <= lastOffset)
        abortedProducers.add(aborted[nextAborted++].producerId)
    }
    if ((attributes & CONTROL_FLAG) !== 0) {
      // A control batch holds one marker; its key is (version int16, type int16).
      if (recordCount > 0 && controlType(data, recordsStart, batchEnd) === ABORT_MARKER)
        abortedProducers.delete(producerId)
      continue
    }
    if ((attributes & TRANSACTIONAL_FLAG) !== 0 && abortedProducers.has(producerId)) continue
    if (lastOffset < fetchOffset || recordCount <= 0) continue

    const body = data.subarray(recordsStart, batchEnd)
    bytes += body.length
    deliverable.push({
      baseOffset,
      baseTimestamp: Number(data.readBigInt64BE(batchStart + 27)),
      ...((attributes & LOG_APPEND_TIME_FLAG) !== 0
        ? { logAppendTime: Number(data.readBigInt64BE(batchStart + 35)) }
        : {}),
      codec: attributes & COMPRESSION_MASK,
      recordCount,
      body,
    })
  }
  return {
    ...context,
    deliverable,
    nextOffset: end === undefined ? nextOffset : Math.min(nextOffset, end),
    batches,
    bytes,
  }
}

/**
 * The records of a scanned set, in offset order: those at or after the fetch offset and before the
 * end. Awaits only for compressed batches.
 */
export async function decodeScannedRecords(scanned: ScannedRecordSet, decompress: Decompress): Promise<KafkaRecord[]> {
  const records: KafkaRecord[] = []
  const { topic, partition, fetchOffset, end } = scanned
  for (const batch of scanned.deliverable) {
    const body = batch.codec === 0 ? batch.body : await decompressBatch(batch, scanned, decompress)
    try {
      decodeRecords(body, batch, records, topic, partition, fetchOffset, end ?? Number.POSITIVE_INFINITY)
    } catch (error) {
      if (error instanceof RangeError) throw corrupt(topic, partition, batch.baseOffset)
      throw error
    }
  }
  return records
}

async function decompressBatch(batch: DeliverableBatch, at: RecordSetContext, decompress: Decompress): Promise<Buffer> {
  try {
    return await decompress(batch.codec, batch.body)
  } catch (error) {
    const codec = CODEC_NAMES[batch.codec] ?? `codec ${batch.codec}`
    throw new InvalidDataError(
      `cannot decompress the ${codec} record batch at ${at.topic}/${at.partition}@${batch.baseOffset}: ${(error as Error).message}`,
      {
        code: batch.codec in CODEC_NAMES ? 'CORRUPT_COMPRESSED_BATCH' : 'UNSUPPORTED_COMPRESSION',
        suggestion: batch.codec in CODEC_NAMES ? undefined : 'Kafka defines codecs 0–4 (none, gzip, snappy, lz4, zstd)',
        where: { topic: at.topic, partition: at.partition, offset: batch.baseOffset, codec },
        cause: error,
      },
    )
  }
}

/** Scan and decode in one step. */
export async function decodeRecordSet(
  data: Buffer,
  context: RecordSetContext,
  decompress: Decompress,
): Promise<{ records: KafkaRecord[]; nextOffset: number; batches: number }> {
  const scanned = scanRecordSet(data, context)
  return {
    records: await decodeScannedRecords(scanned, decompress),
    nextOffset: scanned.nextOffset,
    batches: scanned.batches,
  }
}

function controlType(data: Buffer, recordsStart: number, batchEnd: number): number {
  const reader = new ByteReader(data.subarray(recordsStart, batchEnd))
  reader.varint() // record length
  reader.skip(1) // attributes
  reader.varlong() // timestamp delta
  reader.varint() // offset delta
  const keyLength = reader.varint()
  if (keyLength < 4) return -1
  return data.readInt16BE(recordsStart + reader.pos + 2)
}

/** Shared by every record without headers (most of them): one object less per record. */
const NO_HEADERS: KafkaRecord['headers'] = Object.freeze({})

/**
 * Record (v2): length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * key (varint length, -1 = null), value (same), headers: count varint, then per header a key
 * (varint length + UTF-8) and a value (varint length, -1 = null).
 */
function decodeRecords(
  body: Buffer,
  batch: DeliverableBatch,
  out: KafkaRecord[],
  topic: string,
  partition: number,
  fetchOffset: number,
  end: number,
): void {
  const reader = new ByteReader(body)
  const { baseOffset, baseTimestamp, logAppendTime, recordCount } = batch
  for (let i = 0; i < recordCount; i++) {
    const length = reader.varint()
    const recordEnd = reader.pos + length
    if (length < 0 || recordEnd > body.length) throw corrupt(topic, partition, baseOffset)
    reader.skip(1)
    const timestampDelta = reader.varlong()
    const offset = baseOffset + reader.varint()
    if (offset < fetchOffset || offset >= end) {
      reader.pos = recordEnd
      continue
    }
    const key = reader.bytes()
    const value = reader.bytes()
    const headerCount = reader.varint()
    let headers = NO_HEADERS
    let headerList: Array<readonly [string, Buffer | null]> | undefined
    if (headerCount > 0) {
      headers = {}
      headerList = []
      for (let h = 0; h < headerCount; h++) {
        const name = reader.string()
        const header = reader.bytes()
        headers[name] = header ?? undefined
        headerList.push([name, header])
      }
    }
    if (reader.pos !== recordEnd) throw corrupt(topic, partition, offset)
    const record: KafkaRecord = {
      topic,
      partition,
      offset,
      timestamp: logAppendTime ?? baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    }
    // Only records with headers carry the list (repeats and nulls, in order).
    if (headerList !== undefined) record.headerList = headerList
    out.push(record)
  }
}

function corrupt(topic: string, partition: number, offset: number): InvalidDataError {
  return new InvalidDataError(`a record batch of ${topic}/${partition} near offset ${offset} is corrupt`, {
    code: 'CORRUPT_RECORD_BATCH',
    where: { topic, partition, offset },
  })
}

/** A cursor over a buffer with Kafka's zig-zag varints. */
class ByteReader {
  pos = 0
  constructor(readonly buffer: Buffer) {}

  skip(bytes: number): void {
    this.pos += bytes
  }

  /** A zig-zag varint of at most 32 bits. */
  varint(): number {
    const buffer = this.buffer
    let value = 0
    let shift = 0
    let byte: number
    do {
      if (this.pos >= buffer.length) throw new RangeError('varint beyond the end of the record batch')
      byte = buffer[this.pos++]
      value |= (byte & 0x7f) << shift
      shift += 7
    } while (byte & 0x80 && shift < 35)
    return (value >>> 1) ^ -(value & 1)
  }

  /** A zig-zag varint of up to 64 bits, exact within ±2^53. */
  varlong(): number {
    const buffer = this.buffer
    let value = 0
    let factor = 1
    let byte: number
    do {
      if (this.pos >= buffer.length) throw new RangeError('varlong beyond the end of the record batch')
      byte = buffer[this.pos++]
      value += (byte & 0x7f) * factor
      factor *= 128
    } while (byte & 0x80 && factor <= 2 ** 63)
    // Zig-zag: even → value / 2, odd → -(value + 1) / 2.
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2
  }

  bytes(): Buffer | null {
    const length = this.varint()
    if (length < 0) return null
    const start = this.pos
    this.pos += length
    if (this.pos > this.buffer.length) throw new RangeError('bytes beyond the end of the record batch')
    return this.buffer.subarray(start, this.pos)
  }

  string(): string {
    const length = this.varint()
    if (length < 0) return ''
    const start = this.pos
    this.pos += length
    if (this.pos > this.buffer.length) throw new RangeError('string beyond the end of the record batch')
    return this.buffer.toString('utf8', start, this.pos)
  }
}
