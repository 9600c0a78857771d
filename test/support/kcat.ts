/**
 * kcat (the Debian package `kcat`, librdkafka) as an independent client in tests: what it produces
 * and reads is what any Kafka client would see, not what our own code thinks it wrote.
 */
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export interface KcatRecord {
  topic: string
  partition: number
  offset: number
  key: string | null
  payload: string | null
  /** The record timestamp (epoch ms). */
  ts?: number
  /** Headers as kcat -J lists them: name, value, name, value… (absent without headers). */
  headers?: string[]
}

export interface KcatProduceOptions {
  /** `-H name=value` on every record. */
  headers?: Record<string, string>
  /** `-z codec`: librdkafka compresses the batches. */
  compression?: 'gzip' | 'snappy' | 'lz4' | 'zstd'
}

/** `kcat -P -K:`: one record per [key, value]; keys must not contain ':' or newlines. */
export async function kcatProduce(
  brokers: string,
  topic: string,
  records: Array<[string, string]>,
  options: KcatProduceOptions = {},
): Promise<void> {
  for (const [key, value] of records) {
    if (key.includes(':') || `${key}${value}`.includes('\n')) throw new Error(`cannot produce ${key} with kcat -K:`)
  }
  const args = ['-P', '-b', brokers, '-t', topic, '-K:']
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`)
  if (options.compression) args.push('-z', options.compression)
  const child = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', resolve)
  })
  child.stdin.end(`${records.map(([key, value]) => `${key}:${value}`).join('\n')}\n`)
  const code = await exited
  if (code !== 0) throw new Error(`kcat -P exited with ${code}: ${stderr}`)
}

/** `kcat -C -o beginning -e -J`: every record of the topic, in partition/offset order per partition. */
export async function kcatConsume(brokers: string, topic: string, extra: string[] = []): Promise<KcatRecord[]> {
  const { stdout } = await execFileAsync(
    'kcat',
    ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-J', '-q', ...extra],
    { maxBuffer: 512 << 20 },
  )
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as KcatRecord)
}
