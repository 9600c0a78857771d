/**
 * oclif's own errors as es usage errors (exit 2), one line each, chosen by the error's class and
 * built from what it carries (the flags given, the arguments missing), never by matching its text.
 * Everything oclif's parser throws is a usage problem: a flag's own parse function (an integer, an
 * offset spec) fails inside it, so its errors are usage errors too.
 */

import { EsError, nearMatches, UsageError } from '../errors.js'
import { type ParserErrorClasses, parserErrorClasses } from './oclif-parser-errors.js'

interface FlagDefinition {
  name: string
  char?: string
  exclusive?: string[]
  dependsOn?: string[]
  required?: boolean
}

interface ParseState {
  input?: { flags?: Record<string, FlagDefinition> }
  output?: { flags?: Record<string, unknown>; metadata?: { flags?: Record<string, { setFromDefault?: boolean }> } }
}

/** oclif's message on one line: "Parsing --x" becomes the prefix "--x: ", "See more help" goes. */
function plain(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^See more help/.test(line))
  const flag = /^Parsing (--\S+)$/.exec(lines[0] ?? '')?.[1]
  return flag ? `${flag}: ${lines.slice(1).join('; ')}` : lines.join('; ')
}

/** The usage error for anything oclif's parser threw while parsing `command`'s arguments. */
export function usageFromParse(error: unknown, command: string): EsError {
  if (error instanceof EsError) {
    // oclif prefixed the message of our own error thrown by a flag's parse: put it back.
    error.message = error.line
    return error
  }
  const e = error as Error & { parse?: ParseState; args?: unknown[]; flags?: string[] }
  const errors = parserErrorClasses()
  const is = (kind: keyof ParserErrorClasses) => error instanceof errors[kind]
  const help = `see es ${command} --help`
  if (is('RequiredArgsError')) {
    const missing = ((e.args ?? []) as Array<{ name: string; description?: string }>).map(
      (a) =>
        `<${a.name}>${a.description ? `: ${a.description[0].toLowerCase()}${a.description.slice(1).replace(/\.$/, '')}` : ''}`,
    )
    return new UsageError(`es ${command} needs ${missing.join('; and ')}`, {
      code: 'MISSING_ARGUMENT',
      suggestion: help,
    })
  }
  if (is('UnexpectedArgsError')) {
    const args = (e.args ?? []).map((a) => `"${a}"`)
    return new UsageError(`es ${command} takes no argument ${args.join(', ')}`, {
      code: 'UNEXPECTED_ARGUMENT',
      suggestion: `a flag that takes several values takes them one per flag (--topic a --topic b); ${help}`,
    })
  }
  if (is('NonExistentFlagsError')) {
    const given = e.flags ?? []
    const known = Object.values(e.parse?.input?.flags ?? {}).map((f) => `--${f.name}`)
    const near = nearMatches(given[0] ?? '', known, 1)
    return new UsageError(`es ${command} has no flag ${given.join(', ')}`, {
      code: 'UNKNOWN_FLAG',
      suggestion: near.length ? `did you mean ${near[0]}? ${help}` : help,
    })
  }
  if (is('FailedFlagValidationError')) return flagRelations(e.parse ?? {}, help) ?? usage(e, help)
  return usage(e, help)
}

function usage(error: Error, suggestion: string): UsageError {
  return new UsageError(plain(error.message ?? String(error)) || 'invalid usage', { code: 'USAGE', suggestion })
}

/** The first broken relation between the flags given: excluded together, depending on another, required. */
function flagRelations(parse: ParseState, help: string): UsageError | undefined {
  const definitions = parse.input?.flags ?? {}
  const given = (name: string) =>
    parse.output?.flags?.[name] !== undefined && !parse.output?.metadata?.flags?.[name]?.setFromDefault
  for (const [name, flag] of Object.entries(definitions)) {
    if (given(name)) {
      const other = flag.exclusive?.find(given)
      if (other) {
        return new UsageError(`--${name} and --${other} exclude each other`, {
          code: 'EXCLUSIVE_FLAGS',
          suggestion: `give one of them; ${help}`,
        })
      }
      const needed = flag.dependsOn?.filter((d) => !given(d)) ?? []
      if (needed.length > 0) {
        return new UsageError(`--${name} needs ${needed.map((d) => `--${d}`).join(' and ')}`, {
          code: 'FLAG_DEPENDS',
          suggestion: help,
        })
      }
    } else if (flag.required) {
      return new UsageError(`--${name} is required`, { code: 'MISSING_FLAG', suggestion: help })
    }
  }
  return undefined
}
