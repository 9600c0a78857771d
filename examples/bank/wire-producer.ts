/**
 * A produce-only Kafka client for the load generator: it encodes record batches (magic v2)
 * straight into one buffer per request and sends Produce v3 requests, several in flight per
 * connection.
 *
 * Why it exists: kafkajs spends ~15 µs of JavaScript per record encoding and collecting garbage,
 * which caps one core near 60k records/s here; benchmarks of `es` need to write millions of events
 * faster than that. The services themselves (command handler, projector) use kafkajs.
 *
 * Scope: PLAINTEXT only (no TLS, no SASL), no compression, no idempotence, no retries: any error
 * from the broker fails the send. Metadata (partition leaders, broker addresses) comes from kafkajs.
 */
import { Socket } from 'node:net'
import type { Kafka } from 'kafkajs'
import { retryWhileSettling } from './runtime.js'

const PRODUCE = 0
const PRODUCE_VERSION = 3

export interface PartitionRecords {
  partition: number
  keys: string[]
  values: string[]
}

export class WireProducer {
  private constructor(
    private readonly topic: string,
    private readonly leaders: Map<number, Connection>,
    private readonly connections: Connection[],
  ) {}

  static async connect(kafka: Kafka, topic: string, clientId: string): Promise<WireProducer> {
    const admin = kafka.admin()
    await admin.connect()
    let partitions: Array<{ partitionId: number; leader: number }>
    let brokers: Array<{ nodeId: number; host: string; port: number }>
    try {
      partitions = await retryWhileSettling(async () => {
        const found = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions
        const leaderless = found.find((p) => p.leader < 0)
        if (leaderless) {
          throw Object.assign(new Error(`${topic}/${leaderless.partitionId} has no leader`), { retriable: true })
        }
        return found
      })
      brokers = (await admin.describeCluster()).brokers
    } finally {
      await admin.disconnect()
    }
    const byNode = new Map<number, Connection>()
    const leaders = new Map<number, Connection>()
    for (const { partitionId, leader } of partitions) {
      let connection = byNode.get(leader)
      if (!connection) {
        const broker = brokers.find((b) => b.nodeId === leader)
        if (!broker) throw new Error(`no address for broker ${leader}, the leader of ${topic}/${partitionId}`)
        connection = await Connection.open(broker.host, broker.port, clientId)
        byNode.set(leader, connection)
      }
      leaders.set(partitionId, connection)
    }
    return new WireProducer(topic, leaders, [...byNode.values()])
  }

  /** Appends the records, one batch per partition; resolves when every leader has acknowledged. */
  async send(records: PartitionRecords[], acks: 1 | -1, timeoutMs = 30_000): Promise<void> {
    const perConnection = new Map<Connection, PartitionRecords[]>()
    for (const entry of records) {
      if (entry.keys.length === 0) continue
      const connection = this.leaders.get(entry.partition)
      if (!connection) throw new Error(`${this.topic} has no partition ${entry.partition}`)
      perConnection.set(connection, [...(perConnection.get(connection) ?? []), entry])
    }
    await Promise.all(
      [...perConnection].map(([connection, entries]) => connection.produce(this.topic, entries, acks, timeoutMs)),
    )
  }

  close(): void {
    for (const connection of this.connections) connection.close()
  }
}

class Connection {
  private correlationId = 0
  private readonly pending: Array<{ id: number; resolve: (body: Buffer) => void; reject: (e: Error) => void }> = []
  private buffered: Buffer = Buffer.alloc(0)
  private failure: Error | undefined

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
    private readonly address: string,
  ) {
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    const fail = (error: Error) => {
      this.failure ??= error
      for (const waiting of this.pending.splice(0)) waiting.reject(error)
    }
    socket.on('error', fail)
    socket.on('close', () => fail(new Error(`connection to ${address} closed`)))
  }

  static open(host: string, port: number, clientId: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = new Socket()
      socket.once('error', reject)
      socket.connect(port, host, () => {
        socket.off('error', reject)
        resolve(new Connection(socket, clientId, `${host}:${port}`))
      })
    })
  }

  produce(topic: string, entries: PartitionRecords[], acks: 1 | -1, timeoutMs: number): Promise<void> {
    const id = ++this.correlationId & 0x7fffffff
    const request = encodeProduceRequest(id, this.clientId, topic, entries, acks, timeoutMs)
    return new Promise<Buffer>((resolve, reject) => {
      if (this.failure) return reject(this.failure)
      this.pending.push({ id, resolve, reject })
      this.socket.write(request)
    }).then((body) => checkProduceResponse(body, this.address))
  }

  close(): void {
    this.socket.end()
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0)
      if (this.buffered.length < 4 + size) return
      const frame = this.buffered.subarray(4, 4 + size)
      this.buffered = this.buffered.subarray(4 + size)
      const correlationId = frame.readInt32BE(0)
      const waiting = this.pending.shift()
      if (!waiting || waiting.id !== correlationId) {
        const error = new Error(`unexpected response ${correlationId} from ${this.address}`)
        this.failure = error
        waiting?.reject(error)
        this.socket.destroy(error)
        return
      }
      waiting.resolve(frame.subarray(4))
    }
  }
}

/** Produce v3 response: [topic [partition error_code base_offset log_append_time]] throttle_time. */
function checkProduceResponse(body: Buffer, address: string): void {
  let at = 0
  const topics = body.readInt32BE(at)
  at += 4
  for (let t = 0; t < topics; t++) {
    const nameLength = body.readInt16BE(at)
    const topic = body.toString('utf8', at + 2, at + 2 + nameLength)
    at += 2 + nameLength
    const partitions = body.readInt32BE(at)
    at += 4
    for (let p = 0; p < partitions; p++) {
      const partition = body.readInt32BE(at)
      const errorCode = body.readInt16BE(at + 4)
      at += 4 + 2 + 8 + 8
      if (errorCode !== 0) {
        throw new Error(`${address} refused the records for ${topic}/${partition}: Kafka error code ${errorCode}`)
      }
    }
  }
}

function encodeProduceRequest(
  correlationId: number,
  clientId: string,
  topic: string,
  entries: PartitionRecords[],
  acks: number,
  timeoutMs: number,
): Buffer {
  // Upper bound of the size: fixed parts, plus each record's bytes and at most 5 bytes per varint.
  let estimate = 64 + Buffer.byteLength(clientId) + Buffer.byteLength(topic)
  for (const entry of entries) {
    estimate += 4 + 4 + 61
    for (let i = 0; i < entry.keys.length; i++) {
      estimate += 3 * entry.keys[i].length + 3 * entry.values[i].length + 30
    }
  }
  const out = Buffer.allocUnsafe(estimate)
  let at = 4 // size, written last
  at = out.writeInt16BE(PRODUCE, at)
  at = out.writeInt16BE(PRODUCE_VERSION, at)
  at = out.writeInt32BE(correlationId, at)
  at = writeString(out, at, clientId)
  at = out.writeInt16BE(-1, at) // transactional_id: null
  at = out.writeInt16BE(acks, at)
  at = out.writeInt32BE(timeoutMs, at)
  at = out.writeInt32BE(1, at) // one topic
  at = writeString(out, at, topic)
  at = out.writeInt32BE(entries.length, at)
  for (const entry of entries) {
    at = out.writeInt32BE(entry.partition, at)
    const sizeAt = at
    at = writeRecordBatch(out, at + 4, entry.keys, entry.values)
    out.writeInt32BE(at - sizeAt - 4, sizeAt)
  }
  out.writeInt32BE(at - 4, 0)
  return out.subarray(0, at)
}

function writeString(out: Buffer, at: number, value: string): number {
  const length = out.write(value, at + 2, 'utf8')
  out.writeInt16BE(length, at)
  return at + 2 + length
}

/** Record batch, magic v2, no compression, no producer id; every record at the batch timestamp. */
function writeRecordBatch(out: Buffer, start: number, keys: string[], values: string[]): number {
  const now = BigInt(Date.now())
  let at = start
  at = out.writeBigInt64BE(0n, at) // base offset (assigned by the broker)
  const lengthAt = at
  at += 4 // batch length
  at = out.writeInt32BE(-1, at) // partition leader epoch
  at = out.writeInt8(2, at) // magic
  const crcAt = at
  at += 4
  const attributesAt = at
  at = out.writeInt16BE(0, at) // attributes: no compression, create time
  at = out.writeInt32BE(keys.length - 1, at) // last offset delta
  at = out.writeBigInt64BE(now, at) // base timestamp
  at = out.writeBigInt64BE(now, at) // max timestamp
  at = out.writeBigInt64BE(-1n, at) // producer id
  at = out.writeInt16BE(-1, at) // producer epoch
  at = out.writeInt32BE(-1, at) // base sequence
  at = out.writeInt32BE(keys.length, at)
  for (let i = 0; i < keys.length; i++) {
    const keyLength = Buffer.byteLength(keys[i])
    const valueLength = Buffer.byteLength(values[i])
    // attributes(1) + timestamp delta 0 (1) + offset delta + key length + key + value length + value + headers 0 (1)
    const bodyLength =
      3 +
      varintSize(zigzag(i)) +
      varintSize(zigzag(keyLength)) +
      keyLength +
      varintSize(zigzag(valueLength)) +
      valueLength
    at = writeVarint(out, at, zigzag(bodyLength))
    out[at++] = 0
    out[at++] = 0
    at = writeVarint(out, at, zigzag(i))
    at = writeVarint(out, at, zigzag(keyLength))
    at += out.write(keys[i], at, 'utf8')
    at = writeVarint(out, at, zigzag(valueLength))
    at += out.write(values[i], at, 'utf8')
    out[at++] = 0
  }
  out.writeInt32BE(at - lengthAt - 4, lengthAt)
  out.writeUInt32BE(crc32c(out, attributesAt, at), crcAt)
  return at
}

function zigzag(n: number): number {
  return (n << 1) ^ (n >> 31)
}

function varintSize(value: number): number {
  let size = 1
  let v = value >>> 0
  while (v >= 0x80) {
    v >>>= 7
    size++
  }
  return size
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let v = value >>> 0
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  out[at++] = v
  return at
}

/** CRC-32C (Castagnoli), slicing by 8. */
const CRC_TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256))
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    tables[0][n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) tables[t][n] = (tables[t - 1][n] >>> 8) ^ tables[0][tables[t - 1][n] & 0xff]
  }
  return tables
})()

export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES
  let crc = 0xffffffff
  let i = start
  for (; i + 8 <= end; i += 8) {
    crc ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    crc =
      t7[crc & 0xff] ^
      t6[(crc >>> 8) & 0xff] ^
      t5[(crc >>> 16) & 0xff] ^
      t4[crc >>> 24] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]]
  }
  for (; i < end; i++) crc = t0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
