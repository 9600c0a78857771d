/**
 * Typed errors with the exit codes of SPEC.md. The core throws these and never calls
 * `process.exit`; `src/cli/base-command.ts` is the one place that maps them to an exit code,
 * a one-line message on stderr and, under `--json`, an `{"error":{…}}` document on stdout.
 */

export const ExitCode = {
  ok: 0,
  no: 1,
  usage: 2,
  config: 3,
  unreachable: 4,
  invalidData: 5,
  notFound: 6,
  internal: 70,
  interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface ErrorDetails {
  /** A short machine-readable code, e.g. `TOPIC_NOT_FOUND`. */
  code: string
  /** What to try next, if something helps. */
  suggestion?: string
  /** Where it happened: topic/partition/offset, field path, file:line… */
  where?: Record<string, unknown>
  cause?: unknown
}

export abstract class EsError extends Error {
  abstract readonly exitCode: ExitCodeValue
  readonly code: string
  readonly suggestion?: string
  readonly where?: Record<string, unknown>
  /** The one-line message as made (oclif rewrites `message` of errors thrown inside its parser). */
  readonly line: string

  constructor(message: string, details: ErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.line = message
    this.name = new.target.name
    this.code = details.code
    this.suggestion = details.suggestion
    this.where = details.where
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      exitCode: this.exitCode,
      message: this.message,
      ...(this.suggestion ? { suggestion: this.suggestion } : {}),
      ...(this.where ? { where: this.where } : {}),
    }
  }
}

/** Exit 1: the answer is "no" (drift found, command rejected). */
export class NegativeOutcomeError extends EsError {
  readonly exitCode = ExitCode.no
}

/** Exit 2: a bad flag value or a flag combination that makes no sense. */
export class UsageError extends EsError {
  readonly exitCode = ExitCode.usage
}

/** Exit 3: missing or invalid configuration; unknown service, stream, projection, command type. */
export class ConfigError extends EsError {
  readonly exitCode = ExitCode.config
}

/** Exit 4: Kafka or a read model cannot be reached, authentication failed, or a timeout. */
export class UnreachableError extends EsError {
  readonly exitCode = ExitCode.unreachable
}

/** Exit 5: invalid data: a command that fails validation, a record that cannot be decoded. */
export class InvalidDataError extends EsError {
  readonly exitCode = ExitCode.invalidData
}

/** Exit 6: a key, topic or group that does not exist. */
export class NotFoundError extends EsError {
  readonly exitCode = ExitCode.notFound
}

/** Exit 130: interrupted by the operator (Ctrl-C, also at a prompt); ends quietly. */
export class InterruptedError extends EsError {
  readonly exitCode = ExitCode.interrupted
}

/** Exit 0, said on stderr: the operator answered no at a confirmation; nothing was changed. */
export class CancelledError extends EsError {
  readonly exitCode = ExitCode.ok
}

/** Exit 70: a bug. */
export class InternalError extends EsError {
  readonly exitCode = ExitCode.internal
}

/**
 * What a file system's refusal means, for an error of Node.js (`ENOSPC`…) or of SQLite
 * (`SQLITE_FULL`…); undefined for anything else. Such an error is the machine's state, not a bug.
 */
export function fileSystemFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code
  if (typeof code !== 'string') return undefined
  for (const [pattern, meaning] of FILE_SYSTEM_FAILURES) if (pattern.test(code)) return meaning
  return undefined
}

const FILE_SYSTEM_FAILURES: Array<[RegExp, string]> = [
  [/^(ENOSPC|SQLITE_FULL)/, 'no space left on the device'],
  [/^EDQUOT/, 'disk quota exceeded'],
  [/^(EROFS|SQLITE_READONLY)/, 'the file system is read-only'],
  [/^(EACCES|EPERM)$/, 'permission denied'],
  [/^(EIO|SQLITE_IOERR)/, 'an I/O error'],
]

/**
 * `error` as exit 3 naming `what` (a file or directory es must write) when a file system
 * refused it; otherwise `error` itself.
 */
export function asFileSystemError(error: unknown, what: string, suggestion: string): unknown {
  if (error instanceof EsError) return error
  const meaning = fileSystemFailure(error)
  if (meaning === undefined) return error
  return new ConfigError(`${what}: ${meaning} (${(error as { code: string }).code})`, {
    code: 'FILE_SYSTEM',
    suggestion,
    cause: error,
  })
}

/** Renders `where` as `topic/partition@offset`-style text for one-line messages. */
export function describeRecordPosition(topic: string, partition: number, offset: number | string): string {
  return `${topic}/${partition}@${offset}`
}

/**
 * Near matches for "did you mean" suggestions: names sharing a prefix or a small edit distance.
 */
export function nearMatches(name: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: Array<[number, string]> = []
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    const related =
      candidate.toLowerCase().includes(name.toLowerCase()) || name.toLowerCase().includes(candidate.toLowerCase())
    if (related || distance <= Math.max(2, Math.floor(name.length / 3)))
      scored.push([related ? 0 : distance, candidate])
  }
  return scored
    .sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]))
    .slice(0, max)
    .map(([, c]) => c)
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = saved
    }
  }
  return row[b.length]
}

/** An error as it crosses from a worker thread to the main thread (plain data). */
export interface ThreadError {
  exitCode: number
  code: string
  message: string
  suggestion?: string
  where?: Record<string, unknown>
}

/** `error` as a worker thread posts it; anything not an EsError is an internal error of `what`. */
export function toThreadError(error: unknown, what: string): ThreadError {
  if (error instanceof EsError) {
    return {
      exitCode: error.exitCode,
      code: error.code,
      message: error.line,
      suggestion: error.suggestion,
      where: error.where,
    }
  }
  const meaning = fileSystemFailure(error)
  if (meaning !== undefined) {
    return {
      exitCode: ExitCode.config,
      code: 'FILE_SYSTEM',
      message: `${meaning} in ${what}: ${(error as Error).message}`,
    }
  }
  return { exitCode: 70, code: 'INTERNAL', message: `internal error in ${what}: ${(error as Error)?.message ?? error}` }
}

/** The EsError a worker thread posted, of the class its exit code belongs to. */
export function fromThreadError(posted: ThreadError): EsError {
  const details = { code: posted.code, suggestion: posted.suggestion, where: posted.where }
  switch (posted.exitCode) {
    case 2:
      return new UsageError(posted.message, details)
    case 3:
      return new ConfigError(posted.message, details)
    case 4:
      return new UnreachableError(posted.message, details)
    case 5:
      return new InvalidDataError(posted.message, details)
    case 6:
      return new NotFoundError(posted.message, details)
    default:
      return new InternalError(posted.message, details)
  }
}
