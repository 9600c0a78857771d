/**
 * One duration grammar for flags (`--timeout`), config (`connectionTimeout`) and offsets
 * (`--from 1h30m`): the same units and decimals everywhere, parsed in src/duration.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseFlagDuration } from '../../src/cli/flags.js'
import { resolveConfig } from '../../src/config/load.js'
import { durationForms, parseDuration } from '../../src/duration.js'
import { ExitCode, UsageError } from '../../src/errors.js'
import { parseStartSpec } from '../../src/kafka/offset-spec.js'

const now = Date.UTC(2024, 4, 1, 12, 0, 0)

describe('durations', () => {
  it('parses units, decimals and compounds', () => {
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('1.5s'), 1500)
    assert.equal(parseDuration('1h30m'), 90 * 60_000)
    assert.equal(parseDuration('0.5h'), 30 * 60_000)
    assert.equal(parseDuration('1d2h'), 26 * 3_600_000)
    assert.equal(parseDuration('2w'), 14 * 86_400_000)
    assert.equal(parseDuration('1H30M'), 90 * 60_000)
  })

  it('rejects anything else', () => {
    for (const text of ['', '15', 'm', '1y', '1.h', '.5s', '1h 30m', '-5s', '1e3s', 'ms']) {
      assert.equal(parseDuration(text), undefined, text)
    }
  })

  it('is the same grammar in --timeout, in the config and in --from', () => {
    for (const text of ['1h30m', '2.5s', '1d', '1w', '250ms']) {
      const ms = parseDuration(text)!
      assert.equal(parseFlagDuration(text, '--timeout'), ms, `--timeout ${text}`)
      const config = resolveConfig({ connectionTimeout: text }, { env: {} })
      assert.equal(config.kafka.connectionTimeoutMs, ms, `connectionTimeout: ${text}`)
      assert.deepEqual(parseStartSpec(text, { now }), { kind: 'time', timestamp: now - ms }, `--from ${text}`)
    }
  })

  it('a bad --timeout is a usage error naming the flag and the forms', () => {
    assert.throws(
      () => parseFlagDuration('10', '--timeout'),
      (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.exitCode, ExitCode.usage)
        assert.match(error.message, /^--timeout "10" is not a duration/)
        assert.equal(error.suggestion, `a duration is ${durationForms}`)
        return true
      },
    )
  })

  it('a config number is milliseconds', () => {
    assert.equal(resolveConfig({ requestTimeout: 2500 }, { env: {} }).kafka.requestTimeoutMs, 2500)
  })
})
