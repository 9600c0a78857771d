import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFilterCoverage, evaluate, matches, parsePredicate } from '../../src/tail/filter.js'

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

  it('an unknown operator (>>, >>>, =) is a usage error naming the operators accepted', () => {
    for (const [expression, operator] of [
      ['payload.amount >> 5', '>>'],
      ['payload.amount>>>5', '>>>'],
      ['type = X', '='],
      ['version =< 3', '=<'],
    ]) {
      assert.throws(
        () => parsePredicate(expression),
        (error: Error & { exitCode?: number; suggestion?: string }) => {
          assert.equal(error.exitCode, 2)
          assert.equal(error.message, `--where "${expression}": unknown operator ${operator}`)
          assert.equal(error.suggestion, 'operators: == != >= <= > < ~ contains exists')
          return true
        },
        expression,
      )
    }
    assert.equal(parsePredicate('payload.amount>=5').operator, '>=')
    assert.equal(parsePredicate('payload.note contains a>b').value, 'a>b')
  })

  it('tells which --where paths and --type no record had, with the fields that were there', () => {
    const coverage = createFilterCoverage({
      types: ['FundsDeposited'],
      where: [
        parsePredicate('data.amount > 5'),
        parsePredicate('payload.data.amount > 5'),
        parsePredicate('payload.amount > 5'),
        parsePredicate('payload.missing != 1'),
      ],
    })
    const untyped = { key: 'acc-1', payload: { amount: 3, accountId: 'acc-1' }, value: { kind: 'x', data: {} } }
    coverage.observe(untyped)
    coverage.observe({ ...untyped, payload: { amount: 7, note: 'n' } })
    assert.deepEqual(coverage.notices(), [
      { filter: "--where 'data.amount > 5'", missing: 'data.amount', under: '', fields: ['key', 'payload', 'value'] },
      {
        filter: "--where 'payload.data.amount > 5'",
        missing: 'payload.data.amount',
        under: 'payload',
        fields: ['accountId', 'amount', 'note'],
      },
      { filter: '--type', missing: 'a type', under: '$', fields: ['data', 'kind'] },
    ])
    coverage.observe({ ...untyped, type: 'Opened', data: { amount: 1 }, payload: { data: { amount: 1 } } })
    assert.deepEqual(coverage.notices(), [])
  })
})
