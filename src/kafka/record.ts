/** One Kafka record as every layer above the client sees it. Offsets fit a JS number (< 2^53). */
export interface KafkaRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | string | undefined>
}
