/**
 * oclif's `command_not_found` hook: a mistyped command (`es tial`) is a usage error in the same
 * one-line style as every other error, naming the nearest command (exit 2).
 */
import type { Hook } from '@oclif/core'
import { nearMatches } from '../errors.js'

const hook: Hook<'command_not_found'> = async (options) => {
  const typed = options.id.replace(/:/g, ' ')
  const commands = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replace(/:/g, ' '))
  // `es locl start`: match the whole id, else its first word against the topics and commands.
  const near = nearMatches(typed, commands, 1)
  const first = near.length ? near : nearMatches(typed.split(' ')[0], commands, 1)
  const suggestion = first.length ? `did you mean es ${first[0]}? ` : ''
  process.stderr.write(`error: es ${typed} is not a command (${suggestion}see es --help)\n`)
  process.exitCode = 2
}

export default hook
