/** toJsonSafe: plain data as it is (not copied), anything else converted as before, deep. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toJsonSafe } from '../../src/render/records.js'

/** The conversion as it was before the plain-data fast path: a deep copy of everything. */
function reference(value: unknown): unknown {
  if (value === undefined) return null
  if (Buffer.isBuffer(value)) return `base64:${value.toString('base64')}`
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (Array.isArray(value)) return value.map(reference)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = reference(v)
    return out
  }
  return value
}

class Money {
  constructor(readonly amount = 5) {}
}

describe('toJsonSafe', () => {
  const cases: Array<[string, unknown]> = [
    ['plain JSON', { type: 'Deposited', n: 1, tags: ['a', { b: null }], ok: true, x: 1.5 }],
    ['a Buffer deep inside', { a: [{ b: Buffer.from([0, 255]) }] }],
    ['a bigint beyond 2^53 and a small one', { big: 2n ** 60n, small: 7n }],
    ['undefined in an object and an array', { a: undefined, b: [1, undefined] }],
    ['a Date and a Map', { at: new Date(0), m: new Map([[1, 2]]) }],
    ['a class instance', { money: new Money() }],
    ['a null-prototype object', Object.assign(Object.create(null), { a: 1, b: [2n] })],
    ['NaN and Infinity', [Number.NaN, Number.POSITIVE_INFINITY]],
    ['top-level undefined', undefined],
    ['top-level Buffer', Buffer.from('hi')],
  ]
  for (const [name, value] of cases) {
    it(`writes ${name} as before`, () => {
      assert.equal(JSON.stringify(toJsonSafe(value)), JSON.stringify(reference(value)))
    })
  }

  it('returns plain data itself, not a copy', () => {
    const value = { a: [1, { b: 'c' }] }
    assert.equal(toJsonSafe(value), value)
  })
})
