/**
 * What every benchmark section shares: running a command and timing it (wall time, and peak RSS
 * through GNU time), medians, the loaded topics, and the rows of the printed table.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
export const esBin = join(root, 'bin/run.js')
export const bankReducer = join(root, 'examples/bank/reducer.js')
const loadgenBin = join(root, 'dist/examples/bank/loadgen.js')

export interface Timing {
  ms: number
  code: number
  stderr: string
  /** Peak resident memory in MB, when measured. */
  peakRssMb?: number
}

/** One line of the table: what, the reference's figure, es's figure, the ratio, the target. */
export type Row = [measure: string, reference: string, es: string, ratio: string, target: string]

/** What a section gives: its rows and its figures for bench-results.json. */
export interface SectionResult {
  rows: Row[]
  results: Record<string, unknown>
}

export interface BenchContext {
  brokers: string
  /** A scratch directory, removed at the end. */
  home: string
  rounds: number
  /** `npm run bench -- --scale`: the long runs too. */
  scale: boolean
  /** Loads `events` bank events over `aggregates` accounts into `topic` once per run of the bench. */
  bankTopic(events: number, aggregates: number): Promise<string>
  /** A config file for the bank service on `topic` (projection `accounts`). */
  bankConfig(topic: string): Promise<string>
  log(line: string): void
}

/** Runs a command to completion, stdout to /dev/null; wall time in ms (and peak RSS with `rss`). */
export function timed(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; rss?: string } = {},
): Promise<Timing> {
  const [file, argv] = options.rss
    ? ['/usr/bin/time', ['-f', '%M', '-o', options.rss, command, ...args]]
    : [command, args]
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(file, argv, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      env: { ...process.env, ...options.env },
    })
    let stderr = ''
    child.stderr?.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('exit', async (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      let peakRssMb: number | undefined
      if (options.rss) {
        const lines = (await readFile(options.rss, 'utf8')).trim().split('\n')
        peakRssMb = Number(lines[lines.length - 1]) / 1024
        await rm(options.rss, { force: true })
      }
      resolve({ ms, code: code ?? 1, stderr, peakRssMb })
    })
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/** `timed` for es itself (node bin/run.js …). */
export function timedEs(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; rss?: string; nodeArgs?: string[] } = {},
) {
  return timed(process.execPath, [...(options.nodeArgs ?? []), esBin, ...args], {
    ...options,
    env: { NO_COLOR: '1', ...options.env },
  })
}

/** The timing's ms, or a thrown error naming the command that failed. */
export function check(name: string, timing: Timing): number {
  if (timing.code !== 0) throw new Error(`${name} exited ${timing.code}: ${timing.stderr.trim().split('\n').pop()}`)
  return timing.ms
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`
}

export function rate(count: number, ms: number): string {
  return `${Math.round((count * 1000) / ms).toLocaleString('en-US')}/s`
}

export function mb(value: number): string {
  return `${value.toFixed(0)} MB`
}

export function ensureKcat(): void {
  if (spawnSync('kcat', ['-V']).status === 0) return
  process.stderr.write('installing kcat (Debian package)…\n')
  execFileSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat'], {
    stdio: 'inherit',
  })
}

export function kcatVersion(): string {
  const out = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout ?? ''
  return /^Version (\S+)/m.exec(out)?.[1] ?? out.split('\n')[0]
}

/** kcat's raw dump of a whole topic to /dev/null: the reference for reading throughput. */
export function kcatDump(brokers: string, topic: string): Promise<Timing> {
  return timed('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q'])
}

/** The sample bank's load generator: `events` valid account events over `aggregates` accounts. */
export async function loadBankEvents(brokers: string, topic: string, events: number, aggregates: number) {
  const load = await timed(process.execPath, [
    loadgenBin,
    '--brokers',
    brokers,
    '--events',
    String(events),
    '--accounts',
    String(aggregates),
    '--partitions',
    '4',
    '--topic',
    topic,
  ])
  check('loadgen', load)
  return load
}
