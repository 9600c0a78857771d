/**
 * The one confirmation of every destructive action (rebuild-projection, a checkpoints reset, a
 * write under a read-only profile, an interactive send): `--yes` answers it; without a terminal,
 * or under `--json`, there is no prompt and the action is refused unless `--yes`; Ctrl-C at the
 * question is an interruption (exit 130), never an error. Drawn on stderr: stdout stays data.
 */
import { UsageError } from '../errors.js'
import { askSafely, onStderr } from './terminal.js'

export interface Confirmation {
  /** What is about to happen, shown above the question. */
  summary?: string
  /** The question, naming what will change ("Replace the read model accounts?"). */
  question: string
  /** What needs confirming, for the refusal without a terminal ("rebuild-projection replaces a read model"). */
  action: string
  /** `--yes`: confirmed without asking. */
  yes?: boolean
  /** Under `--json` nobody can answer. */
  json?: boolean
  /** The answer on Enter (default no). */
  byDefault?: boolean
  /** What else helps, for the refusal ("run it with --dry-run first to see the plan"). */
  suggestion?: string
}

/**
 * Refuses up front (before any work) what could not be confirmed: no `--yes`, and nobody to ask.
 */
export function ensureConfirmable(confirmation: Omit<Confirmation, 'question'>): void {
  if (confirmation.yes || canPrompt(confirmation.json)) return
  throw new UsageError(`${confirmation.action}: confirm with --yes (no prompt without a terminal, or under --json)`, {
    code: 'CONFIRMATION_NEEDED',
    suggestion: confirmation.suggestion,
  })
}

/** True to go ahead, false when the operator answered no. */
export async function confirm(confirmation: Confirmation): Promise<boolean> {
  if (confirmation.yes) return true
  ensureConfirmable(confirmation)
  const prompts = await import('@inquirer/prompts')
  if (confirmation.summary) process.stderr.write(`${confirmation.summary}\n`)
  return askSafely(() =>
    prompts.confirm({ message: confirmation.question, default: confirmation.byDefault ?? false }, onStderr),
  )
}

/** A person can answer: stdin and stderr are a terminal, and the output is not `--json`. */
export function canPrompt(json = false): boolean {
  return !json && Boolean(process.stdin.isTTY && process.stderr.isTTY)
}
