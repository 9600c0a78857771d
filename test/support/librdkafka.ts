/**
 * librdkafka through Debian's python3-confluent-kafka (`test/support/produce.py`): records with
 * keys (or none), headers, partitions and timestamps of our choosing, written by a client that is
 * not ours. `.ci/run` installs the package.
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const script = join(dirname(fileURLToPath(import.meta.url)), '../../../test/support/produce.py')

type Bytes = null | { text: string } | { hex: string } | { base64: string }

export interface ProducedRecord {
  topic: string
  partition?: number
  timestamp?: number
  key: Bytes
  value: Bytes
  headers?: Record<string, string>
}

/** Debian's interpreter: its dist-packages hold python3-confluent-kafka and python3-avro. */
export const debianPython = '/usr/bin/python3'

export async function librdkafkaProduce(brokers: string, records: ProducedRecord[]): Promise<void> {
  const child = spawn(debianPython, [script, brokers], { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  child.stdin.end(records.map((r) => JSON.stringify(r)).join('\n'))
  const code = await exited
  if (code !== 0) throw new Error(`produce.py exited with ${code}: ${stderr}`)
}
