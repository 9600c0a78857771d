import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { evaluate, matches, parsePredicate } from '../../src/tail/filter.js'

const event = {
  type: 'FundsDeposited',
  key: 'acc-1',
  version: 3,
  headers: { source: 'teller' },
  payload: { amount: 150, tags: ['vip', 'eu'], note: 'salary march' },
  value: { type: 'FundsDeposited', data: { amount: 150 } },
}

describe('tail filters', () => {
  it('compares numbers, strings, regexes, containment and existence', () => {
    const yes = [
      'payload.amount > 100',
      'payload.amount >= 150',
      'payload.amount == 150',
      'version < 4',
      'type == FundsDeposited',
      "type != 'FundsWithdrawn'",
      'payload.note ~ ^salary',
      'payload.tags contains vip',
      'payload.note contains march',
      'headers.source == teller',
      '$.data.amount == 150',
      'payload.amount exists',
      'payload.tags[1] == eu',
    ]
    for (const expression of yes) assert.equal(evaluate(parsePredicate(expression), event), true, expression)
    const no = [
      'payload.amount > 150',
      'payload.missing exists',
      'payload.tags contains us',
      'type == Other',
      'payload.note > 5',
    ]
    for (const expression of no) assert.equal(evaluate(parsePredicate(expression), event), false, expression)
  })

  it('rejects malformed predicates as usage errors (exit 2)', () => {
    for (const bad of ['amount', 'payload.amount >', 'x ~ (']) {
      assert.throws(
        () => parsePredicate(bad),
        (error: Error & { exitCode?: number }) => error.exitCode === 2,
        bad,
      )
    }
  })

  it('combines key, type and where filters', () => {
    assert.equal(matches({ keys: ['acc-1'], types: ['FundsDeposited'] }, event), true)
    assert.equal(matches({ keys: ['acc-2'] }, event), false)
    assert.equal(matches({ types: ['A', 'B'] }, event), false)
    assert.equal(
      matches({ where: [parsePredicate('payload.amount > 100'), parsePredicate('version == 4')] }, event),
      false,
    )
  })
})
