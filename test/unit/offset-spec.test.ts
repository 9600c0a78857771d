import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ExitCode, UsageError } from '../../src/errors.js'
import { checkRange, formatSpec, parseEndSpec, parseStartSpec } from '../../src/kafka/offset-spec.js'

const now = Date.UTC(2024, 4, 1, 12, 0, 0)

describe('offset and time grammar', () => {
  it('parses every start form', () => {
    assert.deepEqual(parseStartSpec('beginning'), { kind: 'beginning' })
    assert.deepEqual(parseStartSpec('earliest'), { kind: 'beginning' })
    assert.deepEqual(parseStartSpec('end'), { kind: 'end' })
    assert.deepEqual(parseStartSpec(' 42 '), { kind: 'offset', offset: 42 })
    assert.deepEqual(parseStartSpec('0'), { kind: 'offset', offset: 0 })
    assert.deepEqual(parseStartSpec('-10'), { kind: 'before-end', count: 10 })
    assert.deepEqual(parseStartSpec('-0'), { kind: 'end' })
    assert.deepEqual(parseStartSpec('s@1714564800000'), { kind: 'time', timestamp: 1714564800000 })
    assert.deepEqual(parseStartSpec('15m', { now }), { kind: 'time', timestamp: now - 15 * 60_000 })
    assert.deepEqual(parseStartSpec('1h30m', { now }), { kind: 'time', timestamp: now - 90 * 60_000 })
    assert.deepEqual(parseStartSpec('2d ago', { now }), { kind: 'time', timestamp: now - 2 * 86_400_000 })
    assert.deepEqual(parseStartSpec('2024-05-01T10:00:00Z'), { kind: 'time', timestamp: Date.UTC(2024, 4, 1, 10) })
  })

  it('parses every end form', () => {
    assert.deepEqual(parseEndSpec('end'), { kind: 'end' })
    assert.deepEqual(parseEndSpec('1000'), { kind: 'offset', offset: 1000 })
    assert.deepEqual(parseEndSpec('e@1714564800000'), { kind: 'time', timestamp: 1714564800000 })
    assert.deepEqual(parseEndSpec('1w', { now }), { kind: 'time', timestamp: now - 7 * 86_400_000 })
    assert.deepEqual(parseEndSpec('2024-05-01T10:00:00.250+02:00'), {
      kind: 'time',
      timestamp: Date.UTC(2024, 4, 1, 8, 0, 0, 250),
    })
  })

  it('reads ISO-8601 times with and without zones', () => {
    const time = (text: string) => {
      const spec = parseStartSpec(text)
      assert.equal(spec.kind, 'time')
      return spec.timestamp
    }
    assert.equal(time('2024-05-01T10:00:00-05:30'), Date.UTC(2024, 4, 1, 15, 30))
    assert.equal(time('2024-05-01T10:00:00+0100'), Date.UTC(2024, 4, 1, 9))
    assert.equal(time('2024-05-01 10:00z'), Date.UTC(2024, 4, 1, 10))
    // Without a zone: local time, for a bare date too (unlike Date.parse, which reads it as UTC).
    const zone = process.env.TZ
    process.env.TZ = 'America/Sao_Paulo' // UTC-3, no daylight saving time since 2019
    try {
      assert.equal(time('2024-05-01T10:00'), Date.UTC(2024, 4, 1, 13, 0))
      assert.equal(time('2024-05-01'), Date.UTC(2024, 4, 1, 3, 0))
    } finally {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    }
    assert.equal(time('2024-05-01T10:00:00.123456789Z'), Date.UTC(2024, 4, 1, 10, 0, 0, 123))
  })

  it('rejects bad values as usage errors naming the flag and the accepted forms', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => parseStartSpec('yesterday'), '--from'],
      [() => parseStartSpec('12abc', { flag: '--offset' }), '--offset'],
      [() => parseStartSpec('2024-02-30'), '--from'],
      [() => parseStartSpec('2024-05-01T25:00'), '--from'],
      [() => parseStartSpec('99999999999999999999'), '--from'],
      [() => parseStartSpec(''), '--from'],
      [() => parseEndSpec('beginning'), '--until'],
      [() => parseEndSpec('-5'), '--until'],
      [() => parseEndSpec('s@1'), '--until'],
      [() => parseEndSpec('15 minutes'), '--until'],
    ]
    for (const [parse, flag] of cases) {
      assert.throws(parse, (error: unknown) => {
        assert.ok(error instanceof UsageError, String(error))
        assert.equal(error.exitCode, ExitCode.usage)
        assert.ok(error.message.startsWith(`${flag} "`), error.message)
        assert.match(error.suggestion ?? '', new RegExp(`^${flag} accepts .*end.*<offset>.*ISO-8601.*15m`))
        return true
      })
    }
  })

  it('formats specs back into the grammar', () => {
    for (const text of ['beginning', 'end', '42', '-10']) assert.equal(formatSpec(parseStartSpec(text)), text)
    assert.equal(formatSpec(parseEndSpec('e@1714557600000')), '2024-05-01T10:00:00.000Z')
    assert.deepEqual(parseStartSpec(formatSpec(parseStartSpec('15m', { now }))), parseStartSpec('15m', { now }))
  })

  it('refuses --until before --from when both are offsets or both are times (exit 2)', () => {
    const cases: Array<[string, string]> = [
      ['50', '10'],
      ['1h', '2h'],
      ['2024-05-01T10:00:00Z', '2024-05-01T09:00:00Z'],
    ]
    for (const [from, until] of cases) {
      assert.throws(
        () => checkRange(parseStartSpec(from, { now }), parseEndSpec(until, { now })),
        (error: unknown) => {
          assert.ok(error instanceof UsageError)
          assert.match(error.message, /^--until \S+ is before --from \S+$/)
          return true
        },
        `${from} ${until}`,
      )
    }
    for (const [from, until] of [
      ['10', '10'],
      ['10', '50'],
      ['2h', '1h'],
      ['-5', '3'],
      ['beginning', '0'],
      ['1h', '5'],
    ]) {
      checkRange(parseStartSpec(from, { now }), parseEndSpec(until, { now }))
    }
  })
})
