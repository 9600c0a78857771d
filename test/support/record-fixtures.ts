/**
 * Record fixtures (examples/<system>/fixtures/*.ndjson): one record per line, as it is on the
 * wire: `{topic, partition, offset, timestamp, key, value, headers}` where `key` and `value` are
 * `null` or `{"text": …}` (UTF-8), `{"hex": …}` or `{"base64": …}`, and header values are text.
 */
import { readFile } from 'node:fs/promises'
import type { KafkaRecord } from '../../src/kafka/record.js'

type FixtureBytes = null | { text: string } | { hex: string } | { base64: string }

interface FixtureLine {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key: FixtureBytes
  value: FixtureBytes
  headers?: Record<string, string>
}

export async function readRecordFixtures(file: string): Promise<KafkaRecord[]> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '')
  return lines.map((line, i) => {
    let parsed: FixtureLine
    try {
      parsed = JSON.parse(line) as FixtureLine
    } catch (error) {
      throw new Error(`${file}:${i + 1}: ${(error as Error).message}`)
    }
    return {
      topic: parsed.topic,
      partition: parsed.partition,
      offset: parsed.offset,
      timestamp: parsed.timestamp,
      key: toBytes(parsed.key, `${file}:${i + 1} key`),
      value: toBytes(parsed.value, `${file}:${i + 1} value`),
      headers: Object.fromEntries(
        Object.entries(parsed.headers ?? {}).map(([name, value]) => [name, Buffer.from(value)]),
      ),
    }
  })
}

function toBytes(bytes: FixtureBytes, where: string): Buffer | null {
  if (bytes === null) return null
  if ('text' in bytes) return Buffer.from(bytes.text, 'utf8')
  if ('hex' in bytes) return Buffer.from(bytes.hex, 'hex')
  if ('base64' in bytes) return Buffer.from(bytes.base64, 'base64')
  throw new Error(`${where}: expected null, {text}, {hex} or {base64}`)
}
