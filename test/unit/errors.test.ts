import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  asFileSystemError,
  ConfigError,
  ExitCode,
  fileSystemFailure,
  NotFoundError,
  nearMatches,
  toThreadError,
  UsageError,
} from '../../src/errors.js'

describe('errors', () => {
  it('carry the exit codes of SPEC', () => {
    assert.equal(new UsageError('x', { code: 'X' }).exitCode, ExitCode.usage)
    assert.equal(new ConfigError('x', { code: 'X' }).exitCode, 3)
    assert.equal(new NotFoundError('x', { code: 'X' }).exitCode, 6)
  })

  it('serialise to the --json error shape', () => {
    const error = new NotFoundError('topic "bank.evnts" does not exist', {
      code: 'TOPIC_NOT_FOUND',
      suggestion: 'did you mean bank.events?',
    })
    assert.deepEqual(error.toJSON(), {
      code: 'TOPIC_NOT_FOUND',
      exitCode: 6,
      message: 'topic "bank.evnts" does not exist',
      suggestion: 'did you mean bank.events?',
    })
  })

  it('finds near matches for suggestions', () => {
    assert.deepEqual(nearMatches('bank.evnts', ['bank.events', 'bank.commands', 'other']), ['bank.events'])
    assert.deepEqual(nearMatches('zzz', ['bank.events']), [])
  })
  it('tell a file system that refused a write (Node.js and SQLite codes) from a bug', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
    const readOnly = Object.assign(new Error('attempt to write a readonly database'), {
      code: 'SQLITE_READONLY_DBMOVED',
    })
    assert.equal(fileSystemFailure(enospc), 'no space left on the device')
    assert.equal(fileSystemFailure(full), 'no space left on the device')
    assert.equal(fileSystemFailure(readOnly), 'the file system is read-only')
    assert.equal(fileSystemFailure(new TypeError('x is undefined')), undefined)
    assert.equal(fileSystemFailure(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })), undefined)

    const named = asFileSystemError(full, 'state file /d/s.db', 'free space') as ConfigError
    assert.equal(named.exitCode, ExitCode.config)
    assert.equal(named.message, 'state file /d/s.db: no space left on the device (SQLITE_FULL)')
    const bug = new TypeError('x is undefined')
    assert.equal(asFileSystemError(bug, 'state file /d/s.db', 'free space'), bug)

    assert.equal(toThreadError(enospc, 'a replay worker').exitCode, ExitCode.config)
    assert.equal(toThreadError(bug, 'a replay worker').exitCode, ExitCode.internal)
  })
})
