/** The flags of `es replay`, and the one rule between them and --json. */
import { Flags } from '@oclif/core'
import { UsageError } from '../errors.js'
import { cacheFlag, codecFlags, onErrorFlag, partitionerFlag, topicFlag, untilFlag, workersFlag } from './flags.js'

export const replayFlags = {
  ...codecFlags,
  'from-beginning': Flags.boolean({ summary: 'Start at offset 0 and discard stored state.' }),
  projection: Flags.string({ summary: 'Projection of the service (its reducer and topics).' }),
  reducer: Flags.string({
    char: 'r',
    summary: 'Reducer module (.js/.ts) or built-in: latest, merge, count, collect.',
  }),
  state: Flags.string({ summary: 'Where state lives: memory, or a SQLite file (resumable).', default: 'memory' }),
  cache: cacheFlag(),
  until: untilFlag(),
  aggregate: Flags.string({ char: 'a', summary: 'Fold only this aggregate and print its state.' }),
  trace: Flags.boolean({
    summary: 'With --aggregate: print each event and the state after it.',
    dependsOn: ['aggregate'],
  }),
  out: Flags.string({
    summary:
      'Write the final state: to a file (JSON, or NDJSON for .ndjson/.jsonl), or to stdout as NDJSON with -. A device or symlink is written through, never replaced.',
  }),
  'on-error': onErrorFlag(),
  topic: topicFlag,
  workers: workersFlag(),
  partitioner: partitionerFlag,
}

/** `--out -` writes the state to stdout, which `--json` needs for the result. */
export function checkStateOut(out: string | undefined, json: boolean): void {
  if (out === '-' && json) {
    throw new UsageError('--out - writes the state to stdout, where --json writes the result: use one', {
      code: 'USAGE',
      suggestion: 'write the state to a file: --out state.ndjson',
    })
  }
}
