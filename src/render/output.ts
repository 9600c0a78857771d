/**
 * Where output goes. stdout carries data only; warnings, progress and diagnostics go to stderr.
 * Colour is decided once: on only when wanted, `NO_COLOR` is unset and stdout is a terminal.
 */
import { Chalk, type ChalkInstance } from 'chalk'
import { redact } from '../redact.js'
import { escapeControl } from './escape.js'

export interface OutputOptions {
  color: boolean
  verbose: boolean
  json: boolean
  stdout?: NodeJS.WriteStream
  stderr?: NodeJS.WriteStream
  env?: NodeJS.ProcessEnv
}

export interface Output {
  readonly paint: ChalkInstance
  readonly colorEnabled: boolean
  readonly verbose: boolean
  readonly json: boolean
  /** True when stderr is a terminal and progress may be drawn. */
  readonly progressEnabled: boolean
  /** One line of data on stdout: text, or bytes written as they are (then a newline). */
  data(line: string | Buffer): void
  /**
   * Lines of data gathered into writes of about 64 KiB (one write per record was a tenth of a
   * dump's time): `add` a line, `flush` at the end of each batch of records and at the end.
   */
  batch(): DataBatch
  /** A promise while stdout is backed up (a slow pipe), undefined when it takes more now. */
  drained(): Promise<void> | undefined
  /** A warning on stderr. */
  warn(message: string): void
  /** A status line on stderr (suppressed under --json). */
  info(message: string): void
  /** A diagnostic on stderr, only with --verbose. */
  debug(message: string): void
  errorLabel(label: string): string
}

export interface DataBatch {
  add(line: string | Buffer): void
  flush(): void
}

const BATCH_BYTES = 64 * 1024
const NEWLINE = Buffer.from('\n')

function dataBatch(stdout: NodeJS.WritableStream): DataBatch {
  let text = ''
  let parts: Buffer[] = []
  let bytes = 0
  const flush = () => {
    if (text !== '') parts.push(Buffer.from(text, 'utf8'))
    if (parts.length > 0) stdout.write(parts.length === 1 ? parts[0] : Buffer.concat(parts))
    text = ''
    parts = []
    bytes = 0
  }
  return {
    add(line) {
      if (typeof line === 'string') {
        text += `${line}\n`
        bytes += line.length + 1 // UTF-16 units: when to flush, not the size written
      } else {
        if (text !== '') parts.push(Buffer.from(text, 'utf8'))
        text = ''
        parts.push(line, NEWLINE)
        bytes += line.length + 1
      }
      if (bytes >= BATCH_BYTES) flush()
    },
    flush,
  }
}

export function createOutput(options: OutputOptions): Output {
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? process.stderr
  const env = options.env ?? process.env
  const colorEnabled = options.color && !('NO_COLOR' in env && env.NO_COLOR !== '') && Boolean(stdout.isTTY)
  const paint = new Chalk({ level: colorEnabled ? 1 : 0 })
  return {
    paint,
    colorEnabled,
    verbose: options.verbose,
    json: options.json,
    progressEnabled: Boolean(stderr.isTTY) && !options.json,
    data: (line) => {
      if (typeof line === 'string') stdout.write(`${line}\n`)
      else {
        stdout.write(line)
        stdout.write('\n')
      }
    },
    batch: () => dataBatch(stdout),
    drained: () =>
      stdout.writableNeedDrain ? new Promise<void>((resolve) => stdout.once('drain', () => resolve())) : undefined,
    // A warning may quote data (a field name, a decode error): one line the terminal only displays.
    warn: (message) => {
      stderr.write(`${paint.yellow('warning')} ${escapeControl(message)}\n`)
    },
    info: (message) => {
      if (!options.json) stderr.write(`${message}\n`)
    },
    debug: (message) => {
      if (options.verbose) stderr.write(`${paint.dim(`[debug] ${redact(message)}`)}\n`)
    },
    errorLabel: (label) => paint.red(`${label}:`),
  }
}
