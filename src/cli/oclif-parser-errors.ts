/**
 * oclif's parser error classes, which its package does not export: loaded from its own file.
 * The bundle (scripts/bundle.mjs) replaces this module by a static import of that same file, so
 * that the classes are those of the bundled oclif that throws them.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

type ErrorClass = abstract new (...args: never[]) => Error

export interface ParserErrorClasses {
  RequiredArgsError: ErrorClass
  UnexpectedArgsError: ErrorClass
  NonExistentFlagsError: ErrorClass
  FailedFlagValidationError: ErrorClass
}

let classes: ParserErrorClasses | undefined

export function parserErrorClasses(): ParserErrorClasses {
  const require = createRequire(import.meta.url)
  classes ??= require(join(dirname(require.resolve('@oclif/core')), 'parser/errors.js')) as ParserErrorClasses
  return classes
}
