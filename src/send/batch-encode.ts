/**
 * Pass 1 of `es send-command --batch`: lines of an NDJSON file (or of a byte range of it, for a
 * second thread) parsed, checked and encoded into a spool file, every error naming its line.
 * Used by src/send/batch.ts on the main thread and by src/send/encode-worker.ts.
 */
import { createReadStream } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { ConfigError, EsError, InvalidDataError, UsageError } from '../errors.js'
import { parsePayload } from './payload.js'
import type { CommandInput, PreparedCommand } from './prepare.js'

const LINE_FIELDS = new Set(['type', 'data', 'key', 'id', 'headers', 'expectedVersion'])

/** The lines to encode: a whole file, or the bytes [start, end) of it, whose first line is number `firstLine + 1`. */
export interface LineSource {
  file: string
  /** The file as the operator named it (`stdin` for -), in errors. */
  name: string
  start?: number
  end?: number
  /** Lines before `start`. */
  firstLine?: number
}

/** Parses and checks one NDJSON line; every error names the line (exit 5). */
export function prepareLine(
  prepare: (command: CommandInput) => PreparedCommand | Promise<PreparedCommand>,
  text: string,
  n: number,
  defaultType: string | undefined,
): PreparedCommand | Promise<PreparedCommand> {
  const fail = (path: string, problem: string): never => {
    throw new InvalidDataError(`line ${n}: ${path} ${problem}`, { code: 'INVALID_LINE', where: { line: n, path } })
  }
  let line: unknown
  try {
    line = parsePayload(text, `line ${n}`)
  } catch (error) {
    if (!(error instanceof InvalidDataError)) throw error
    throw new InvalidDataError(error.line.replace(/ at line 1, column /, ' at column '), {
      code: error.code,
      where: { line: n },
    })
  }
  if (typeof line !== 'object' || line === null || Array.isArray(line)) return fail('$', 'must be a JSON object')
  const doc = line as Record<string, unknown>
  for (const field of Object.keys(doc)) {
    if (!LINE_FIELDS.has(field)) fail(`$.${field}`, `is not a command field (${[...LINE_FIELDS].join(', ')})`)
  }
  const type = doc.type ?? defaultType
  if (type === undefined) fail('$.type', 'is required (or give TYPE)')
  if (typeof type !== 'string' || type === '') fail('$.type', 'must be a non-empty string')
  if (doc.data === undefined) fail('$.data', 'is required')
  if (doc.key !== undefined && typeof doc.key !== 'string' && typeof doc.key !== 'number') {
    fail('$.key', 'must be a string')
  }
  if (doc.id !== undefined && (typeof doc.id !== 'string' || doc.id === '')) fail('$.id', 'must be a non-empty string')
  const headers = doc.headers
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
      fail('$.headers', 'must be an object')
    for (const [name, value] of Object.entries(headers as object)) {
      if (typeof value !== 'string') fail(`$.headers.${name}`, 'must be a string')
    }
  }
  const version = doc.expectedVersion
  if (version !== undefined && !(Number.isInteger(version) && (version as number) >= 0)) {
    fail('$.expectedVersion', 'must be a non-negative integer')
  }
  const atLine = (error: unknown): never => {
    if (!(error instanceof EsError)) throw error
    // An unknown type on a line is bad data (exit 5), like any other field of the line.
    const Kind = error instanceof ConfigError ? InvalidDataError : (error.constructor as typeof InvalidDataError)
    throw new Kind(`line ${n}: ${error.line}`, {
      code: error.code,
      where: { line: n, ...error.where },
      suggestion: error.suggestion,
    })
  }
  try {
    const prepared = prepare({
      type: type as string,
      payload: doc.data,
      key: doc.key === undefined ? undefined : String(doc.key),
      id: doc.id as string | undefined,
      headers: headers as Record<string, string> | undefined,
      expectedVersion: version as number | undefined,
      ownedPayload: true,
    })
    return prepared instanceof Promise ? prepared.catch(atLine) : prepared
  } catch (error) {
    return atLine(error)
  }
}

/** Every non-empty line of `source` (ended by LF or CRLF), encoded into the spool; the count of commands. */
export async function encodeLines(
  source: LineSource,
  spool: string,
  encode: (line: string, n: number) => PreparedCommand | Promise<PreparedCommand>,
): Promise<number> {
  const { file, name } = source
  let stream: ReturnType<typeof createReadStream>
  try {
    stream = createReadStream(file, {
      highWaterMark: 1024 * 1024,
      start: source.start,
      end: source.end === undefined ? undefined : source.end - 1,
    })
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve())
      stream.once('error', reject)
    })
  } catch (error) {
    throw new UsageError(`cannot read --batch ${name}: ${(error as NodeJS.ErrnoException).code}`, {
      code: 'USAGE',
      where: { file: name },
    })
  }
  const frames = new SpoolWriter(await open(spool, 'w'))
  let count = 0
  let n = source.firstLine ?? 0
  // Synchronous unless a command or the spool has to wait (no promise per line otherwise).
  const line = (data: Buffer, start: number, end: number): Promise<void> | undefined => {
    n++
    const text = data.toString('utf8', start, end > start && data[end - 1] === 0x0d ? end - 1 : end)
    if (text.trim() === '') return undefined
    const prepared = encode(text, n)
    count++
    if (prepared instanceof Promise) return prepared.then((record) => frames.add(record))
    return frames.add(prepared)
  }
  try {
    let rest: Buffer | undefined
    for await (const chunk of stream) {
      const data: Buffer = rest ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer)
      let start = 0
      for (let end = data.indexOf(0x0a, start); end !== -1; end = data.indexOf(0x0a, start)) {
        const waiting = line(data, start, end)
        if (waiting) await waiting
        start = end + 1
      }
      rest = start < data.length ? data.subarray(start) : undefined
    }
    if (rest) await line(rest, 0, rest.length)
    await frames.flush()
  } finally {
    stream.destroy()
    await frames.close()
  }
  return count
}

/** The offset just past the first line end at or after `from`; undefined when none follows. */
export async function lineEndAfter(file: string, from: number): Promise<number | undefined> {
  const handle = await open(file, 'r')
  try {
    const window = Buffer.allocUnsafe(64 * 1024)
    for (let at = from; ; at += window.length) {
      const { bytesRead } = await handle.read(window, 0, window.length, at)
      if (bytesRead === 0) return undefined
      const newline = window.subarray(0, bytesRead).indexOf(0x0a)
      if (newline !== -1) return at + newline + 1
    }
  } finally {
    await handle.close()
  }
}

/** The line ends (LF) in the first `end` bytes of `file`: the lines before that offset. */
export async function linesBefore(file: string, end: number): Promise<number> {
  let lines = 0
  if (end <= 0) return 0
  for await (const chunk of createReadStream(file, { end: end - 1, highWaterMark: 1024 * 1024 })) {
    const data = chunk as Buffer
    for (let at = data.indexOf(0x0a); at !== -1; at = data.indexOf(0x0a, at + 1)) lines++
  }
  return lines
}

const NO_HEADERS_JSON = Buffer.from('{}')

/**
 * Spool frames, written through one buffer: key length (-1: null), key, value length, value,
 * headers length, headers JSON.
 */
class SpoolWriter {
  private buffer = Buffer.allocUnsafe(1024 * 1024)
  private at = 0
  constructor(private readonly file: FileHandle) {}

  /** Resolves at once unless the buffer had to be written out first. */
  add(record: {
    key: Buffer | null
    value: Buffer | null
    headers: Record<string, string>
  }): Promise<void> | undefined {
    let headers = NO_HEADERS_JSON
    for (const _ in record.headers) {
      headers = Buffer.from(JSON.stringify(record.headers))
      break
    }
    const { key, value } = record
    const size = 12 + (key?.length ?? 0) + (value?.length ?? 0) + headers.length
    if (this.at + size > this.buffer.length) {
      if (this.at > 0) return this.flush().then(() => this.add(record))
      this.buffer = Buffer.allocUnsafe(size)
    }
    const frame = this.buffer
    let at = frame.writeInt32BE(key === null ? -1 : key.length, this.at)
    if (key) at += key.copy(frame, at)
    at = frame.writeInt32BE(value === null ? -1 : value.length, at)
    if (value) at += value.copy(frame, at)
    at = frame.writeInt32BE(headers.length, at)
    this.at = at + headers.copy(frame, at)
    return undefined
  }

  async flush(): Promise<void> {
    if (this.at === 0) return
    await this.file.write(this.buffer, 0, this.at)
    this.at = 0
  }

  close(): Promise<void> {
    return this.file.close()
  }
}

/** `encodeLines` of commands: each line checked and prepared; `onId` told each command id (for --wait). */
export function encodeCommands(
  source: LineSource,
  spool: string,
  prepare: (command: CommandInput) => PreparedCommand | Promise<PreparedCommand>,
  defaultType: string | undefined,
  onId?: (id: string) => void,
): Promise<number> {
  return encodeLines(source, spool, (line, n) => {
    const prepared = prepareLine(prepare, line, n, defaultType)
    if (!onId) return prepared
    if (prepared instanceof Promise)
      return prepared.then((p) => {
        onId(p.commandId)
        return p
      })
    onId(prepared.commandId)
    return prepared
  })
}
