/**
 * Encoding of a Produce request (versions 3–7 share one body) with its record batches (message
 * format v2), each in one pass into one buffer. kafkajs 2.2.4 builds an encoder object per record,
 * per header and per varint (a `Buffer.from` for each): for `es send-command --batch`, encoding
 * was about half of the time spent producing. kafkajs still does everything else (idempotent
 * sequences, retries, leaders, acks); src/kafka/produce-encoding.ts installs this in its place.
 *
 * Pure, apart from compression, which is injected (kafkajs's codec registry at run time).
 * Headers are written in their order: a list of `{key, value}` pairs as given (`es produce` copies
 * records exactly, a null value as length −1), or kafkajs's object form (`{name: value | value[]}`)
 * in its order.
 */

/** One record as kafkajs's producer hands it to the request. */
export interface ProduceMessage {
  key?: Buffer | string | null
  value?: Buffer | string | null
  headers?: HeaderPair[] | Record<string, HeaderValue | HeaderValue[] | undefined>
  /** Epoch ms, as kafkajs keeps it (a string or a number); absent: the time of encoding. */
  timestamp?: string | number
}

export interface HeaderPair {
  key: string
  value: Buffer | null
}

type HeaderValue = Buffer | string | null

export interface ProducePartitionData {
  partition: number
  firstSequence?: number
  messages: ProduceMessage[]
}

export interface ProduceRequestData {
  transactionalId?: string | null
  acks: number
  timeout: number
  /** -1 without an idempotent producer; kafkajs's Long or a bigint. */
  producerId?: bigint | number | { toString(): string }
  producerEpoch?: number
  /** Kafka's codec number: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  compression?: number
  topicData: Array<{ topic: string; partitions: ProducePartitionData[] }>
}

/** Compresses the records of a batch with codec 1–4. */
export type Compress = (codec: number, records: Buffer) => Promise<Buffer>

const TRANSACTIONAL = 0x10
/** From partitionLeaderEpoch to the records count: the part of a batch its length counts. */
const BATCH_HEADER_AFTER_LENGTH = 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4

export async function encodeProduceRequest(request: ProduceRequestData, compress?: Compress): Promise<Buffer> {
  const parts: Buffer[] = []
  const head = new Writer(2 + 2 + 4 + 4 + (request.transactionalId ? Buffer.byteLength(request.transactionalId) : 0))
  head.nullableString(request.transactionalId ?? null)
  head.int16(request.acks)
  head.int32(request.timeout)
  head.int32(request.topicData.length)
  parts.push(head.done())
  const now = Date.now()
  for (const { topic, partitions } of request.topicData) {
    const topicHead = new Writer(2 + Buffer.byteLength(topic) + 4)
    topicHead.string(topic)
    topicHead.int32(partitions.length)
    parts.push(topicHead.done())
    for (const data of partitions) {
      const batch = await encodeRecordBatch(
        data.messages,
        {
          producerId: toBigInt(request.producerId ?? -1),
          producerEpoch: request.producerEpoch ?? 0,
          firstSequence: data.firstSequence ?? 0,
          transactional: Boolean(request.transactionalId),
          compression: request.compression ?? 0,
          now,
        },
        compress,
      )
      const partitionHead = new Writer(8)
      partitionHead.int32(data.partition)
      partitionHead.int32(batch.length)
      parts.push(partitionHead.done(), batch)
    }
  }
  return Buffer.concat(parts)
}

export interface BatchHeader {
  producerId: bigint
  producerEpoch: number
  firstSequence: number
  transactional: boolean
  compression: number
  /** The timestamp of records without one. */
  now: number
}

/** One record batch (base offset 0, as a producer sends it) of `messages` in their order. */
export async function encodeRecordBatch(
  messages: ProduceMessage[],
  header: BatchHeader,
  compress?: Compress,
): Promise<Buffer> {
  const timestamps = messages.map((m) => (m.timestamp == null || m.timestamp === '' ? header.now : Number(m.timestamp)))
  let firstTimestamp = timestamps.length === 0 ? header.now : timestamps[0]
  let maxTimestamp = firstTimestamp
  for (const t of timestamps) {
    if (t < firstTimestamp) firstTimestamp = t
    if (t > maxTimestamp) maxTimestamp = t
  }
  let records = encodeRecords(messages, timestamps, firstTimestamp)
  const codec = header.compression & 0x07
  if (codec !== 0) {
    if (!compress) throw new Error(`no codec to compress record batches with codec ${codec}`)
    records = await compress(codec, records)
  }
  const batch = new Writer(8 + 4 + BATCH_HEADER_AFTER_LENGTH + records.length)
  batch.int64(0n)
  batch.int32(BATCH_HEADER_AFTER_LENGTH + records.length)
  batch.int32(0) // partitionLeaderEpoch: the broker sets it
  batch.int8(2) // magic
  const crcAt = batch.at
  batch.int32(0)
  batch.int16(codec | (header.transactional ? TRANSACTIONAL : 0))
  batch.int32(messages.length - 1)
  batch.int64(BigInt(firstTimestamp))
  batch.int64(BigInt(maxTimestamp))
  batch.int64(header.producerId)
  batch.int16(header.producerEpoch)
  batch.int32(header.firstSequence)
  batch.int32(messages.length)
  batch.bytes(records)
  const out = batch.done()
  out.writeUInt32BE(crc32c(out, crcAt + 4, out.length), crcAt)
  return out
}

interface Prepared {
  key: Buffer | null
  value: Buffer | null
  headers: Array<{ key: Buffer; value: Buffer | null }>
  bodySize: number
}

/** The records of a batch: each `length attributes timestampDelta offsetDelta key value headers`. */
function encodeRecords(messages: ProduceMessage[], timestamps: number[], firstTimestamp: number): Buffer {
  const prepared: Prepared[] = new Array(messages.length)
  let total = 0
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]
    const key = toBytes(m.key)
    const value = toBytes(m.value)
    const headers = headerList(m.headers)
    let bodySize =
      1 + sizeOfVarLong(timestamps[i] - firstTimestamp) + sizeOfVarInt(i) + sizeOfBytes(key) + sizeOfBytes(value)
    bodySize += sizeOfVarInt(headers.length)
    for (const h of headers) bodySize += sizeOfBytes(h.key) + sizeOfBytes(h.value)
    prepared[i] = { key, value, headers, bodySize }
    total += sizeOfVarInt(bodySize) + bodySize
  }
  const out = new Writer(total)
  for (let i = 0; i < prepared.length; i++) {
    const { key, value, headers, bodySize } = prepared[i]
    out.varInt(bodySize)
    out.int8(0)
    out.varLong(timestamps[i] - firstTimestamp)
    out.varInt(i)
    out.varBytes(key)
    out.varBytes(value)
    out.varInt(headers.length)
    for (const h of headers) {
      out.varBytes(h.key)
      out.varBytes(h.value)
    }
  }
  return out.done()
}

const NO_HEADERS: Array<{ key: Buffer; value: Buffer | null }> = []

function headerList(headers: ProduceMessage['headers']): Array<{ key: Buffer; value: Buffer | null }> {
  if (headers === undefined || headers === null) return NO_HEADERS
  if (Array.isArray(headers)) return headers.map((h) => ({ key: Buffer.from(h.key, 'utf8'), value: toBytes(h.value) }))
  const names = Object.keys(headers)
  if (names.length === 0) return NO_HEADERS
  const list: Array<{ key: Buffer; value: Buffer | null }> = []
  for (const name of names) {
    const value = headers[name]
    const key = Buffer.from(name, 'utf8')
    if (Array.isArray(value)) for (const v of value) list.push({ key, value: toBytes(v) })
    else list.push({ key, value: toBytes(value) })
  }
  return list
}

function toBytes(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null
  return Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8')
}

const sizeOfBytes = (bytes: Buffer | null) => (bytes === null ? 1 : sizeOfVarInt(bytes.length) + bytes.length)

/** Zig-zag varint of a 32-bit integer: its size in bytes. */
function sizeOfVarInt(n: number): number {
  let z = ((n << 1) ^ (n >> 31)) >>> 0
  let size = 1
  while (z >= 0x80) {
    z >>>= 7
    size++
  }
  return size
}

/** Zig-zag varint of a safe integer (a timestamp delta): its size in bytes. */
function sizeOfVarLong(n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1
  let size = 1
  while (z >= 0x80) {
    z = Math.floor(z / 128)
    size++
  }
  return size
}

function toBigInt(value: bigint | number | { toString(): string }): bigint {
  return typeof value === 'bigint' ? value : BigInt(typeof value === 'number' ? value : value.toString())
}

/** Writes into a buffer of exactly the size computed beforehand. */
class Writer {
  readonly buffer: Buffer
  at = 0
  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size)
  }
  int8(n: number) {
    this.at = this.buffer.writeInt8(n, this.at)
  }
  int16(n: number) {
    this.at = this.buffer.writeInt16BE(n, this.at)
  }
  int32(n: number) {
    this.at = this.buffer.writeInt32BE(n, this.at)
  }
  int64(n: bigint) {
    this.at = this.buffer.writeBigInt64BE(n, this.at)
  }
  string(text: string) {
    const length = Buffer.byteLength(text)
    this.int16(length)
    this.at += this.buffer.write(text, this.at, length, 'utf8')
  }
  nullableString(text: string | null) {
    if (text === null) this.int16(-1)
    else this.string(text)
  }
  bytes(bytes: Buffer) {
    this.at += bytes.copy(this.buffer, this.at)
  }
  varInt(n: number) {
    let z = ((n << 1) ^ (n >> 31)) >>> 0
    while (z >= 0x80) {
      this.buffer[this.at++] = (z & 0x7f) | 0x80
      z >>>= 7
    }
    this.buffer[this.at++] = z
  }
  varLong(n: number) {
    let z = n >= 0 ? n * 2 : -n * 2 - 1
    while (z >= 0x80) {
      this.buffer[this.at++] = (z % 128) | 0x80
      z = Math.floor(z / 128)
    }
    this.buffer[this.at++] = z
  }
  varBytes(bytes: Buffer | null) {
    if (bytes === null) {
      this.varInt(-1)
      return
    }
    this.varInt(bytes.length)
    this.bytes(bytes)
  }
  done(): Buffer {
    if (this.at !== this.buffer.length) throw new Error(`encoded ${this.at} bytes, expected ${this.buffer.length}`)
    return this.buffer
  }
}

const CRC32C_TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256))
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    tables[0][n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0][n]
    for (let t = 1; t < 8; t++) {
      c = tables[0][c & 0xff] ^ (c >>> 8)
      tables[t][n] = c >>> 0
    }
  }
  return tables
})()

/** CRC-32C (Castagnoli) of `bytes[start, end)`, as record batches carry it; slicing by 8. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32C_TABLES
  let crc = 0xffffffff
  let i = start
  for (; i + 8 <= end; i += 8) {
    const lo = (crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0
    crc =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]]
  }
  for (; i < end; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
