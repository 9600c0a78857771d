/**
 * Runs the real `es` binary (bin/run.js) as a child process, the way users and scripts do.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const esBin = join(dirname(fileURLToPath(import.meta.url)), '../../../bin/run.js')

export interface EsRun {
  code: number
  stdout: string
  stderr: string
}

export interface EsOptions {
  env?: NodeJS.ProcessEnv
  input?: string
  cwd?: string
  /** Options for node itself, e.g. `--max-old-space-size=64`. */
  nodeArgs?: string[]
}

export async function runEs(args: string[], options: EsOptions & { timeoutMs?: number } = {}): Promise<EsRun> {
  const es = startEs(args, options)
  const timeoutMs = options.timeoutMs ?? 60_000
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      es.child.kill('SIGKILL')
      reject(new Error(`es ${args.join(' ')} did not finish in ${timeoutMs} ms\n${es.stderr()}`))
    }, timeoutMs)
  })
  try {
    const code = await Promise.race([es.exited, timedOut])
    return { code: code ?? 1, stdout: es.stdout(), stderr: es.stderr() }
  } finally {
    clearTimeout(timer)
  }
}

/** The JSON documents of NDJSON text, one per non-empty line. */
export function ndjsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T)
}

export interface RunningEs {
  child: ChildProcess
  /** What it has written so far. */
  stdout(): string
  stderr(): string
  /** Its exit code once it exits. */
  exited: Promise<number | null>
}

/**
 * Starts the real `es` binary in the background (a follow), collecting what it writes; stdin
 * gets `input` and is closed.
 */
export function startEs(args: string[], options: EsOptions = {}): RunningEs {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), esBin, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin.end(options.input ?? '')
  // Decoded as a stream: a character split between two chunks (a table's '│') stays whole.
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  // 'close': after the exit and after stdout and stderr have delivered everything.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/**
 * Runs `es` under GNU time (`/usr/bin/time`, Debian package `time`) and gives its peak resident
 * memory (the process and its threads) besides the run.
 */
export async function runEsMeasured(
  args: string[],
  options: EsOptions & { timeoutMs?: number } = {},
): Promise<EsRun & { peakRssMb: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'es-rss-'))
  const report = join(dir, 'rss')
  try {
    const child = spawn(
      '/usr/bin/time',
      ['-f', '%M', '-o', report, process.execPath, ...(options.nodeArgs ?? []), esBin, ...args],
      { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000)
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    clearTimeout(timer)
    const lines = (await readFile(report, 'utf8')).trim().split('\n')
    return { code: code ?? 1, stdout, stderr, peakRssMb: Number(lines[lines.length - 1]) / 1024 }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
