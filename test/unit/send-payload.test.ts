import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parsePayload, readPayload, requireCommandType, validatePayload } from '../../src/send/payload.js'

const depositSchema = {
  type: 'object',
  required: ['amount'],
  properties: { amount: { type: 'number', exclusiveMinimum: 0 }, currency: { enum: ['EUR', 'USD'] } },
  additionalProperties: false,
}

describe('command payloads', () => {
  it('reports invalid JSON with line and column (exit 5)', () => {
    assert.throws(
      () => parsePayload('{\n  "amount": 10,\n  oops\n}', '--data'),
      (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 5)
        assert.match(error.message, /--data is not valid JSON at line 3, column 3/)
        return true
      },
    )
  })

  it('names line and column also where V8 names no position (unexpected token, unexpected end)', () => {
    const cases: Array<[string, string]> = [
      ['amount=10', 'line 1, column 1'],
      ['{"amount": ten}', 'line 1, column 13'],
      ['{"a":\n  [1, 2, tru]}', 'line 2, column 13'],
      ['{"amount": 1', 'line 1, column 13'],
      ['', 'line 1, column 1'],
      ['{\n  "amount": 1\n', 'line 3, column 1'],
      ['{"a":1} x', 'line 1, column 9'],
    ]
    for (const [text, where] of cases) {
      assert.throws(
        () => parsePayload(text, 'stdin'),
        (error: Error & { exitCode?: number }) => {
          assert.equal(error.exitCode, 5)
          assert.ok(error.message.startsWith(`stdin is not valid JSON at ${where}: `), error.message)
          // V8's own position and its echo of the text are left out: the line and column say it.
          assert.doesNotMatch(error.message, /position \d|is not valid JSON$/)
          return true
        },
        JSON.stringify(text),
      )
    }
  })

  it('names the field path and the rule of a schema violation (exit 5)', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /\$\.amount is required/],
      [{ amount: -1 }, /\$\.amount must be > 0 \(exclusiveMinimum\)/],
      [{ amount: 'ten' }, /\$\.amount must be number \(type\)/],
      [{ amount: 1, currency: 'GBP' }, /\$\.currency must be one of "EUR", "USD" \(enum\)/],
      [{ amount: 1, extra: true }, /\$\.extra is not allowed/],
    ]
    for (const [payload, expected] of cases) {
      assert.throws(
        () => validatePayload('DepositFunds', depositSchema, payload),
        (error: Error & { exitCode?: number }) => error.exitCode === 5 && expected.test(error.message),
        JSON.stringify(payload),
      )
    }
    validatePayload('DepositFunds', depositSchema, { amount: 10, currency: 'EUR' })
  })

  it('reads --data, stdin, and refuses both --data and --data-file (exit 2)', async () => {
    assert.deepEqual(await readPayload({ data: '{"a":1}', readStdin: async () => '' }), { a: 1 })
    assert.deepEqual(await readPayload({ dataFile: '-', readStdin: async () => '{"b":2}' }), { b: 2 })
    await assert.rejects(
      readPayload({ data: '{}', dataFile: 'x.json', readStdin: async () => '' }),
      (error: Error & { exitCode?: number }) => error.exitCode === 2,
    )
  })

  it('lists known command types for an unknown one (exit 3)', () => {
    assert.throws(
      () => requireCommandType({ DepositFunds: {}, WithdrawFunds: {} }, 'DepositFund', 'bank'),
      (error: Error & { exitCode?: number; suggestion?: string }) =>
        error.exitCode === 3 &&
        /known types: DepositFunds, WithdrawFunds; did you mean DepositFunds/.test(error.suggestion ?? ''),
    )
  })

  it('honours JSON Schema formats: uuid, date-time, email, uri (exit 5 naming the field and the format)', () => {
    const schema = {
      type: 'object',
      properties: {
        value_id: { type: 'string', format: 'uuid' },
        at: { type: 'string', format: 'date-time' },
        contact: { type: 'string', format: 'email' },
        callback: { type: 'string', format: 'uri' },
      },
    }
    validatePayload('CreateValue', schema, {
      value_id: '5d3c4b2a-1f0e-4d9c-8b7a-695847362514',
      at: '2026-05-01T10:00:00Z',
      contact: 'ops@example.com',
      callback: 'https://example.com/hook',
    })
    const bad: Array<[string, unknown, string]> = [
      ['value_id', 'abc', 'uuid'],
      ['at', 'yesterday', 'date-time'],
      ['contact', 'ops at example', 'email'],
      ['callback', 'not a uri', 'uri'],
    ]
    for (const [field, value, format] of bad) {
      assert.throws(
        () => validatePayload('CreateValue', schema, { [field]: value }),
        (error: Error & { exitCode?: number; where?: Record<string, unknown> }) => {
          assert.equal(error.exitCode, 5)
          assert.equal(
            error.message,
            `CreateValue payload is invalid: $.${field} must match format "${format}" (format)`,
          )
          assert.deepEqual([error.where?.path, error.where?.rule], [`$.${field}`, 'format'])
          return true
        },
        field,
      )
    }
  })

  it('an unknown format in a command schema is a configuration error, not silently accepted', () => {
    const schema = { type: 'object', properties: { id: { type: 'string', format: 'snowflake' } } }
    assert.throws(
      () => validatePayload('Open', schema, { id: 'x' }),
      (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 3)
        assert.match(error.message, /^the JSON Schema of command Open is invalid: unknown format "snowflake"/)
        return true
      },
    )
  })
})
