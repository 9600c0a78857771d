/**
 * The flags of `es tail`, and the one reading of its range: the shorthands --from-beginning and
 * -e/--until-end, and the default start (the log's end for a follow, its beginning for a range).
 */
import { Flags } from '@oclif/core'
import { checkRange, type EndSpec, type StartSpec } from '../kafka/offset-spec.js'
import {
  codecFlags,
  formatFlag,
  fromFlag,
  partitionerFlag,
  partitionFlag,
  topicFlag,
  untilFlag,
  whereFlag,
} from './flags.js'

export const tailFlags = {
  ...codecFlags,
  topic: topicFlag,
  from: fromFlag(),
  'from-beginning': Flags.boolean({ summary: 'Shorthand for --from beginning.', exclusive: ['from'] }),
  until: untilFlag(),
  'until-end': Flags.boolean({
    char: 'e',
    summary: 'Stop at the ends fixed at start (--until end).',
    exclusive: ['until'],
  }),
  follow: Flags.boolean({
    char: 'f',
    summary: 'Keep following the log (the default without --until).',
    exclusive: ['until', 'until-end'],
  }),
  partition: partitionFlag,
  key: Flags.string({
    char: 'k',
    summary: 'Only records with this key (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
  }),
  type: Flags.string({
    summary: 'Only events of this type (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
  }),
  where: whereFlag(),
  limit: Flags.integer({ char: 'c', summary: 'Stop after this many shown records.', min: 1 }),
  format: formatFlag(),
  partitioner: partitionerFlag,
}

/** Where a tail starts and stops; `until` undefined is a follow. */
export function tailRange(flags: {
  from?: StartSpec
  'from-beginning'?: boolean
  until?: EndSpec
  'until-end'?: boolean
}): { from: StartSpec; until?: EndSpec } {
  const until = flags['until-end'] ? ({ kind: 'end' } as const) : flags.until
  checkRange(flags.from, flags.until)
  const from = flags['from-beginning']
    ? ({ kind: 'beginning' } as const)
    : (flags.from ?? { kind: until ? 'beginning' : 'end' })
  return { from, until }
}
