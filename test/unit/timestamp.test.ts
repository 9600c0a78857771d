import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toTimestamp } from '../../src/envelope/envelope-decoder.js'

describe('envelope timestamps', () => {
  it('reads ISO-8601 UTC text exactly as Date.parse does (fast path), over many random instants', () => {
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let i = 0; i < 2000; i++) {
      const iso = new Date(Math.floor(random() * 4_000_000_000_000)).toISOString()
      const variants = [iso, iso.replace(/\.\d+Z$/, 'Z'), iso.replace(/(\.\d)\d+Z$/, '$1Z'), iso.replace(/Z$/, '999Z')]
      for (const text of variants) assert.equal(toTimestamp(text, -1), Date.parse(text), text)
    }
  })

  it('agrees with Date.parse on leap days, century years, years before 1970 and impossible dates', () => {
    const valid = [
      '2024-02-29T12:00:00Z',
      '2000-02-29T23:59:59.999Z',
      '1900-02-28T00:00:00Z',
      '1900-03-01T00:00:00.5Z',
      '1969-12-31T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999Z',
    ]
    for (const text of valid) assert.equal(toTimestamp(text, -1), Date.parse(text), text)
    // Date.parse refuses these (NaN), so the record time is used: never a normalised neighbour date.
    for (const text of [
      '2026-13-01T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-01-01T24:00:01Z',
    ]) {
      assert.equal(toTimestamp(text, -1), Number.isNaN(Date.parse(text)) ? -1 : Date.parse(text), text)
    }
  })

  it('falls back to Date.parse for other forms, and to the record time for none', () => {
    assert.equal(toTimestamp('2026-11-25T13:57:48+01:00', 0), Date.parse('2026-11-25T13:57:48+01:00'))
    assert.equal(toTimestamp('1666950000000', 0), 1666950000000)
    assert.equal(toTimestamp(1666950000000, 0), 1666950000000)
    assert.equal(toTimestamp('not a time', 7), 7)
    assert.equal(toTimestamp(undefined, 7), 7)
  })
})
