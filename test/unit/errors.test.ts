import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, ExitCode, NotFoundError, nearMatches, UsageError } from '../../src/errors.js'

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
})
