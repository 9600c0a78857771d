/**
 * Builds Kafka record batches (message format v2) byte by byte, for unit tests of the decoder:
 * including what producers never write but logs contain — control batches, batches emptied by
 * compaction, batches cut off at the end of a fetch response.
 */

export interface TestRecord {
  offsetDelta: number
  timestampDelta?: number
  key?: Buffer | string | null
  value?: Buffer | string | null
  headers?: Array<[string, Buffer | string | null]>
}

export interface TestBatch {
  baseOffset: number
  /** Default: the highest offsetDelta of the records (0 without records). */
  lastOffsetDelta?: number
  baseTimestamp?: number
  maxTimestamp?: number
  producerId?: bigint
  transactional?: boolean
  control?: boolean
  logAppendTime?: boolean
  magic?: number
  records?: TestRecord[]
  /** Records bytes as written (e.g. compressed); overrides `records`, with `recordCount`. */
  rawRecords?: { codec: number; bytes: Buffer; recordCount: number }
}

export function zigzagVarint(value: number): Buffer {
  // Zig-zag for values within ±2^52, then unsigned LEB128.
  let n = value >= 0 ? value * 2 : -value * 2 - 1
  const bytes: number[] = []
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  bytes.push(n)
  return Buffer.from(bytes)
}

function varBytes(value: Buffer | string | null | undefined): Buffer {
  if (value === null || value === undefined) return zigzagVarint(-1)
  const bytes = typeof value === 'string' ? Buffer.from(value) : value
  return Buffer.concat([zigzagVarint(bytes.length), bytes])
}

export function encodeRecord(record: TestRecord): Buffer {
  const headers = record.headers ?? []
  const body = Buffer.concat([
    Buffer.from([0]),
    zigzagVarint(record.timestampDelta ?? 0),
    zigzagVarint(record.offsetDelta),
    varBytes(record.key),
    varBytes(record.value),
    zigzagVarint(headers.length),
    ...headers.flatMap(([name, value]) => [varBytes(name), varBytes(value)]),
  ])
  return Buffer.concat([zigzagVarint(body.length), body])
}

/** A control record: key (version 0, type 0 = abort, 1 = commit), value (version 0, coordinator epoch). */
export function controlRecord(type: 'abort' | 'commit'): TestRecord {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(type === 'abort' ? 0 : 1, 2)
  const value = Buffer.alloc(6)
  return { offsetDelta: 0, key, value }
}

export function encodeBatch(batch: TestBatch): Buffer {
  const records = batch.records ?? []
  const recordsBytes = batch.rawRecords?.bytes ?? Buffer.concat(records.map(encodeRecord))
  const recordCount = batch.rawRecords?.recordCount ?? records.length
  const lastOffsetDelta = batch.lastOffsetDelta ?? Math.max(0, ...records.map((r) => r.offsetDelta))
  const attributes =
    (batch.rawRecords?.codec ?? 0) |
    (batch.logAppendTime ? 0x08 : 0) |
    (batch.transactional || batch.control ? 0x10 : 0) |
    (batch.control ? 0x20 : 0)
  const header = Buffer.alloc(61)
  header.writeBigInt64BE(BigInt(batch.baseOffset), 0)
  header.writeInt32BE(49 + recordsBytes.length, 8) // from partitionLeaderEpoch to the end
  header.writeInt32BE(0, 12) // partition leader epoch
  header.writeInt8(batch.magic ?? 2, 16)
  header.writeUInt32BE(0, 17) // crc: not verified by the decoder
  header.writeInt16BE(attributes, 21)
  header.writeInt32BE(lastOffsetDelta, 23)
  header.writeBigInt64BE(BigInt(batch.baseTimestamp ?? 1_700_000_000_000), 27)
  header.writeBigInt64BE(BigInt(batch.maxTimestamp ?? batch.baseTimestamp ?? 1_700_000_000_000), 35)
  header.writeBigInt64BE(batch.producerId ?? -1n, 43)
  header.writeInt16BE(0, 51) // producer epoch
  header.writeInt32BE(0, 53) // base sequence
  header.writeInt32BE(recordCount, 57)
  return Buffer.concat([header, recordsBytes])
}
