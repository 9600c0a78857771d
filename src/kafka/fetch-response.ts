/**
 * Decoding of Fetch responses v4 to v11 (the versions with read-committed isolation that kafkajs
 * 2.2.4 can encode requests for). Only the framing is decoded here; each partition's record set
 * stays a Buffer (a view of the response, not a copy) for `decodeRecordSet`, which needs the
 * partition's fetch offset and range end. kafkajs's own decoder flattens record batches into
 * messages and loses the batch boundaries the read position depends on.
 */
import type { AbortedTransaction } from './record-batch.js'

export interface FetchResponse {
  /** Top-level error (v7+); 0 when none. */
  errorCode: number
  /** Milliseconds the client should wait before sending again (KIP-219), 0 if none. */
  throttleTimeMs: number
  partitions: FetchedPartition[]
}

export interface FetchedPartition {
  topic: string
  partition: number
  errorCode: number
  highWatermark: number
  lastStableOffset: number
  /** -1 before v5. */
  logStartOffset: number
  abortedTransactions: AbortedTransaction[]
  records: Buffer
}

const EMPTY = Buffer.alloc(0)

/** `payload` is the response body after the correlation id, as kafkajs's connection hands it over. */
export function decodeFetchResponse(payload: Buffer, version: number): FetchResponse {
  let at = 0
  const int16 = () => {
    const value = payload.readInt16BE(at)
    at += 2
    return value
  }
  const int32 = () => {
    const value = payload.readInt32BE(at)
    at += 4
    return value
  }
  const int64 = () => {
    const value = Number(payload.readBigInt64BE(at))
    at += 8
    return value
  }
  const throttleTimeMs = int32()
  let errorCode = 0
  if (version >= 7) {
    errorCode = int16()
    int32() // session id: sessionless fetches, always 0
  }
  const partitions: FetchedPartition[] = []
  const topicCount = int32()
  for (let t = 0; t < topicCount; t++) {
    const nameLength = int16()
    const topic = payload.toString('utf8', at, at + nameLength)
    at += nameLength
    const partitionCount = int32()
    for (let p = 0; p < partitionCount; p++) {
      const partition = int32()
      const partitionError = int16()
      const highWatermark = int64()
      const lastStableOffset = int64()
      const logStartOffset = version >= 5 ? int64() : -1
      const abortedCount = int32()
      const abortedTransactions: AbortedTransaction[] = []
      for (let a = 0; a < abortedCount; a++) {
        const producerId = payload.readBigInt64BE(at)
        at += 8
        abortedTransactions.push({ producerId, firstOffset: int64() })
      }
      if (version >= 11) int32() // preferred read replica: es always reads from the leader
      const recordsLength = int32()
      const records = recordsLength > 0 ? payload.subarray(at, at + recordsLength) : EMPTY
      if (recordsLength > 0) at += recordsLength
      partitions.push({
        topic,
        partition,
        errorCode: partitionError,
        highWatermark,
        lastStableOffset,
        logStartOffset,
        abortedTransactions,
        records,
      })
    }
  }
  return { errorCode, throttleTimeMs, partitions }
}
