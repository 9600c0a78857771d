/**
 * The flags of `es checkpoints`, and the one reading of what a --reset-to may do: apply the
 * reset, ask first, or only show its plan.
 */
import { Flags } from '@oclif/core'
import { parseStartSpec } from '../kafka/offset-spec.js'
import { canPrompt } from '../prompts/confirm.js'
import { fromFlag, writeFlags } from './flags.js'

export const checkpointsFlags = {
  projection: Flags.string({
    summary: 'Check the offsets a projection keeps in its read model (readModel.offsets) instead.',
    exclusive: ['reset-to', 'topic'],
  }),
  topic: Flags.string({
    char: 't',
    summary: 'Only this topic (repeatable); default every topic the group has committed offsets for.',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'reset-to': fromFlag({
    summary: 'Move the committed offsets here: beginning, end, <offset>, -<n>, <ISO time>, <duration ago>.',
    parse: async (input: string) => parseStartSpec(input, { flag: '--reset-to' }),
  }),
  'dry-run': Flags.boolean({ summary: 'With --reset-to: show the plan only, never ask.' }),
  ...writeFlags,
  yes: Flags.boolean({
    ...writeFlags.yes,
    summary: 'Apply --reset-to without asking (--execute is the same).',
    aliases: ['execute'],
    exclusive: ['dry-run'],
  }),
}

/**
 * `apply` with --yes; `ask` on a terminal; else `plan`: shown and nothing changed (--dry-run, a
 * script, --json, or a read-only profile without --allow-write, where the plan is only a read).
 * Undefined without --reset-to.
 */
export function resetMode(
  flags: { 'reset-to'?: unknown; 'dry-run'?: boolean; yes?: boolean; 'allow-write'?: boolean },
  readOnly: boolean,
  json: boolean,
): 'apply' | 'ask' | 'plan' | undefined {
  if (flags['reset-to'] === undefined) return undefined
  if (flags['dry-run']) return 'plan'
  if (flags.yes) return 'apply'
  return (!readOnly || flags['allow-write']) && canPrompt(json) ? 'ask' : 'plan'
}
