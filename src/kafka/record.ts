/** One Kafka record as every layer above the client sees it. Offsets fit a JS number (< 2^53). */
export interface KafkaRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  /** Lookup by name: the last value of each header name (undefined for a null value). */
  headers: Record<string, Buffer | string | undefined>
  /**
   * Every header in stored order, repeated names and null values included (as kcat shows them);
   * set by readers of the wire format. Absent: the headers are exactly `headers`.
   */
  headerList?: ReadonlyArray<readonly [string, Buffer | null]>
}

/** Every header of a record in order, repeated names and null values included. */
export function headerEntries(record: KafkaRecord): ReadonlyArray<readonly [string, Buffer | string | null]> {
  if (record.headerList !== undefined) return record.headerList
  return Object.entries(record.headers).map(([name, value]) => [name, value ?? null] as const)
}
