/**
 * Which partition a key goes to, as the service's producer computes it:
 * - `murmur2`: Java's DefaultPartitioner, kafkajs' default and Kafka Streams:
 *   `toPositive(murmur2(keyBytes)) % partitions` (librdkafka's `murmur2_random`);
 * - `crc32`: librdkafka's `consistent`: `crc32(keyBytes) % partitions` (a null key is partition 0);
 * - `consistent_random`: crc32, but a null or empty key goes to a random partition;
 * - `none`: unknown, so a read for one key scans every partition.
 * Producing without a key, every partitioner spreads records (round robin) except `crc32`.
 */

export const PARTITIONERS = ['murmur2', 'crc32', 'consistent_random', 'none'] as const
export type PartitionerName = (typeof PARTITIONERS)[number]

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's murmur2 (32-bit, seed 0x9747b28c), as a signed 32-bit integer like Java's. */
export function murmur2(data: Buffer): number {
  const length = data.length
  let h = SEED ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  // The tail bytes, as Kafka's switch falls through them.
  const tail = length & 3
  if (tail === 3) h ^= data[whole + 2] << 16
  if (tail >= 2) h ^= data[whole + 1] << 8
  if (tail >= 1) {
    h ^= data[whole]
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  return table
})()

/** CRC-32 (IEEE, zlib's), unsigned. */
export function crc32(data: Buffer): number {
  let c = -1
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

/**
 * The partition of a key, or undefined when the partitioner cannot say (`none`, or a key that
 * goes to a random partition).
 */
export function partitionOf(name: PartitionerName, key: Buffer | null, partitions: number): number | undefined {
  switch (name) {
    case 'murmur2':
      return key === null ? undefined : (murmur2(key) & 0x7fffffff) % partitions
    case 'crc32':
      return key === null ? 0 : crc32(key) % partitions
    case 'consistent_random':
      return key === null || key.length === 0 ? undefined : crc32(key) % partitions
    case 'none':
      return undefined
  }
}

/**
 * A producer's choice for each record: the partitioner's, else round robin (null keys, and keys
 * of `none`, which produces like kafkajs' default: murmur2).
 */
export function producerPartitioner(name: PartitionerName, partitions: number): (key: Buffer | null) => number {
  const effective: PartitionerName = name === 'none' ? 'murmur2' : name
  let next = Math.floor(Math.random() * partitions)
  return (key) => {
    const partition = partitionOf(effective, key, partitions)
    if (partition !== undefined) return partition
    next = (next + 1) % partitions
    return next
  }
}

/**
 * The ranges holding `keys` under the partitioner: per topic, only the partitions the keys hash
 * to (`ranges` must hold every partition of each topic: their count is the partition count).
 * A topic where some key's partition is unknown keeps all its ranges. `narrowed` lists the
 * topic/partitions kept where ranges were dropped.
 */
export function keyRanges<R extends { topic: string; partition: number }>(
  ranges: R[],
  name: PartitionerName,
  keys: Buffer[],
): { ranges: R[]; narrowed: Array<{ topic: string; partition: number }> } {
  if (name === 'none' || keys.length === 0) return { ranges, narrowed: [] }
  const byTopic = new Map<string, R[]>()
  for (const range of ranges) byTopic.set(range.topic, [...(byTopic.get(range.topic) ?? []), range])
  const kept: R[] = []
  const narrowed: Array<{ topic: string; partition: number }> = []
  for (const [topic, own] of byTopic) {
    const wanted = keys.map((key) => partitionOf(name, key, own.length))
    if (wanted.some((p) => p === undefined)) {
      kept.push(...own)
      continue
    }
    for (const range of own) {
      if (!wanted.includes(range.partition)) continue
      kept.push(range)
      narrowed.push({ topic, partition: range.partition })
    }
  }
  return { ranges: kept, narrowed }
}

/** `no record with key K in T partition P (where murmur2 puts it): …` */
export function keyNotFoundMessage(
  key: string,
  name: PartitionerName,
  where: Array<{ topic: string; partition: number }>,
): string {
  const places = where.map((w) => `${w.topic} partition ${w.partition}`).join(', ')
  return `no record with key ${key} in ${places} (where the ${name} partitioner puts it); if the producer partitions otherwise, run with --partitioner none to read every partition`
}
