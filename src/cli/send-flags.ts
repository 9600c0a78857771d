/** The flags of `es send-command`: one command, or `--batch` (which excludes the one-command flags). */
import { Flags } from '@oclif/core'
import { UsageError } from '../errors.js'
import { codecFlags, partitionerFlag, timeoutFlag, writeFlags } from './flags.js'

const single = ['batch']

export const sendCommandFlags = {
  ...codecFlags,
  data: Flags.string({ char: 'd', summary: 'The payload as JSON text.', exclusive: ['data-file', ...single] }),
  'data-file': Flags.string({ summary: 'Read the payload from a file, or - for stdin.', exclusive: single }),
  interactive: Flags.boolean({
    char: 'i',
    summary: "Ask for each field of the command's JSON Schema.",
    exclusive: ['data', 'data-file', ...single],
  }),
  batch: Flags.string({ summary: 'Send the NDJSON commands of a file, or - for stdin, one a line.' }),
  key: Flags.string({ char: 'k', summary: 'Record key (the aggregate id for most services).', exclusive: single }),
  header: Flags.string({
    char: 'H',
    summary: 'A record header k=v (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
    exclusive: single,
  }),
  'expected-version': Flags.integer({
    summary: 'The aggregate version the command expects (optimistic concurrency).',
    min: 0,
    exclusive: single,
  }),
  id: Flags.string({
    summary: 'Command id (default: a new UUID); reuse it to retry idempotently.',
    exclusive: single,
  }),
  'dry-run': Flags.boolean({
    summary: 'Print the exact record (key, headers, value) and produce nothing.',
    exclusive: single,
  }),
  wait: Flags.boolean({ char: 'w', summary: 'Wait for the events the command caused and judge the outcome.' }),
  timeout: timeoutFlag({ default: 10_000, summary: 'With --wait: how long to wait for events (500ms, 10s, 2m).' }),
  topic: Flags.string({ char: 't', summary: 'Topic to send to (zero-config use, or another commands topic).' }),
  partitioner: partitionerFlag,
  ...writeFlags,
}

/** The positional TYPE: only --batch may leave it out (its lines can name their own). */
export function commandType(type: string | undefined, batch: string | undefined): string | undefined {
  if (type !== undefined || batch !== undefined) return type
  throw new UsageError('es send-command needs <type> (or --batch <file|->; see es send-command --help)', {
    code: 'USAGE',
  })
}
