/**
 * What every prompt shares: drawn on stderr, and Ctrl-C (inquirer's ExitPromptError, raised when
 * the operator force-closes a prompt) turned into an interruption: exit 130, quietly.
 */
import { InterruptedError } from '../errors.js'

/** Prompts draw on stderr: stdout stays data (the command's result), even interactively. */
export const onStderr = { output: process.stderr }

/** Runs one prompt; Ctrl-C at it becomes InterruptedError. */
export async function askSafely<T>(prompt: () => Promise<T>): Promise<T> {
  try {
    return await prompt()
  } catch (error) {
    if ((error as Error)?.name === 'ExitPromptError' || (error as Error)?.name === 'AbortPromptError') {
      throw new InterruptedError('interrupted', { code: 'INTERRUPTED', cause: error })
    }
    throw error
  }
}
