/**
 * Flag definitions shared by several commands, each defined once and parsed once into a value
 * (an offset spec, a predicate, a duration), never re-parsed inside commands.
 */
import { Flags } from '@oclif/core'
import { durationForms, parseDuration } from '../duration.js'
import { UsageError } from '../errors.js'
import {
  type EndSpec,
  endSpecForms,
  parseEndSpec,
  parseStartSpec,
  type StartSpec,
  startSpecForms,
} from '../kafka/offset-spec.js'
import { RECORD_FORMATS, type RecordFormat } from '../render/records.js'
import { type CacheBound, parseCacheBound } from '../stores/state-cache.js'
import { type Predicate, parsePredicate } from '../tail/filter.js'

export const portFlag = Flags.integer({
  summary: 'Port of the local broker.',
  default: 9092,
  min: 1,
  max: 65535,
})

export const fromFlag = Flags.custom<StartSpec>({
  summary: 'Where to start: beginning, end, <offset>, -<n>, <ISO time>, <duration ago> (15m, 2h).',
  description: `Accepted: ${startSpecForms}.`,
  parse: async (input: string) => parseStartSpec(input, { flag: '--from' }),
})

export const untilFlag = Flags.custom<EndSpec>({
  summary: 'Where to stop (exclusive), fixed at start: end, <offset>, <ISO time>, <duration ago>.',
  description: `Accepted: ${endSpecForms}.`,
  parse: async (input: string) => parseEndSpec(input, { flag: '--until' }),
})

export const topicFlag = Flags.string({
  char: 't',
  summary: 'A topic to read instead of the service stream (repeatable; zero-config use).',
  // Repeat the flag for several values: oclif's greedy default would swallow a following argument
  // (`--topic t acc-42` would read topics t and acc-42).
  multiple: true,
  multipleNonGreedy: true,
})

export const partitionFlag = Flags.integer({
  char: 'p',
  summary: 'Only this partition (repeatable).',
  multiple: true,
  multipleNonGreedy: true,
  min: 0,
})

export const whereFlag = Flags.custom<Predicate>({
  summary: "Keep records where '<path> <op> <value>' holds (repeatable; all must hold).",
  description:
    'Paths: type, key, id, aggregateId, version, headers.<name>, payload.<path>, $.<path> (the whole value). Operators: == != > >= < <= ~ (regex) contains exists.',
  multiple: true,
  multipleNonGreedy: true,
  parse: async (input: string) => parsePredicate(input),
})

export const formatFlag = Flags.custom<RecordFormat>({
  summary: 'Output format, one record per line.',
  options: RECORD_FORMATS,
  default: 'pretty',
  char: 'o',
  parse: async (input: string) => input as RecordFormat,
})

/** A flag's duration text → milliseconds; anything else is a usage error naming the flag. */
export function parseFlagDuration(input: string, flag: string): number {
  const ms = parseDuration(input)
  if (ms !== undefined) return ms
  throw new UsageError(`${flag} "${input}" is not a duration`, {
    code: 'USAGE',
    suggestion: `a duration is ${durationForms}`,
    where: { flag, value: input },
  })
}

export const timeoutFlag = Flags.custom<number>({
  summary: 'How long to wait (500ms, 10s, 1.5m, 1h30m).',
  parse: async (input: string) => parseFlagDuration(input, '--timeout'),
})

/** What to do with an undecodable event: `fail` (exit 5 at that record) or `skip` (count and list it). */
export const onErrorFlag = Flags.custom<'fail' | 'skip'>({
  summary: 'An undecodable event: fail (exit 5 at that record) or skip (count and list it).',
  options: ['fail', 'skip'],
  default: 'fail',
  parse: async (input) => input as 'fail' | 'skip',
})

/**
 * The flags of every command that writes: the one confirmation (`--yes`) and the way past a
 * read-only profile (`--allow-write`, which asks; EsCommand.guardWrite).
 */
export const writeFlags = {
  'allow-write': Flags.boolean({
    summary: 'Write even under a read-only profile (asks for confirmation on a terminal; --yes in scripts).',
  }),
  yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation (scripts).' }),
}

export const cacheFlag = Flags.custom<CacheBound>({
  summary: 'With --state FILE: states kept in memory, a count (100k) or a size (64MB). Default 100k.',
  description:
    'A file-backed state keeps only this many recently used states in memory; the rest live in the file. A size is converted to a count with the average size of the states seen (an estimate of their heap).',
  helpValue: '<count|size>',
  parse: async (input: string) => parseCacheBound(input),
})
