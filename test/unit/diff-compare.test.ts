import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { diffStates, isTimeZone, sameValue, toInstant } from '../../src/diff/compare.js'
import { normalizeName } from '../../src/read-models/row.js'

const account = (id: string, balance: number, version: number, extra: Record<string, unknown> = {}) => ({
  id,
  owner: `owner ${id}`,
  balance,
  status: 'open',
  version,
  updatedAt: Date.UTC(2026, 10, 25, 10, 0, version),
  ...extra,
})
const row = (id: string, balance: unknown, version: number, extra: Record<string, unknown> = {}) => ({
  id,
  owner: `owner ${id}`,
  balance,
  status: 'open',
  version,
  updated_at: new Date(Date.UTC(2026, 10, 25, 10, 0, version)).toISOString(),
  ...extra,
})

describe('diff: replayed state against read-model rows', () => {
  it('finds nothing when every aggregate matches, names matched across camelCase and snake_case', () => {
    const states: Array<[string, unknown]> = [
      ['a', account('a', 10, 2)],
      ['b', account('b', 0, 1)],
    ]
    const rows = new Map([
      ['a', row('a', 10, 2)],
      ['b', row('b', '0.00', 1)],
    ])
    const result = diffStates(states, rows, true)
    assert.equal(result.drift, false)
    assert.deepEqual(result.counts, {
      replayed: 2,
      readModel: 2,
      compared: 2,
      missing: 0,
      extra: 0,
      changed: 0,
      ahead: 0,
      undecodable: 0,
    })
    assert.deepEqual(result.details, [])
    assert.deepEqual(result.unmapped, [])
  })

  it('reports missing, extra and changed aggregates in id order, with each differing field', () => {
    const states: Array<[string, unknown]> = [
      ['c', account('c', 5, 3)],
      ['a', account('a', 10, 2)],
      ['m', account('m', 1, 1)],
    ]
    const rows = new Map([
      ['a', row('a', 11, 2, { status: 'closed' })],
      ['c', row('c', 5, 3)],
      ['x', row('x', 7, 1)],
    ])
    const result = diffStates(states, rows, true)
    assert.equal(result.drift, true)
    assert.deepEqual(
      { missing: result.counts.missing, extra: result.counts.extra, changed: result.counts.changed },
      { missing: 1, extra: 1, changed: 1 },
    )
    assert.deepEqual(
      result.details.map((d) => [d.aggregateId, d.kind]),
      [
        ['a', 'changed'],
        ['m', 'missing'],
        ['x', 'extra'],
      ],
    )
    const changed = result.details[0]
    assert.ok(changed.kind === 'changed')
    assert.deepEqual(changed.fields, [
      { field: 'balance', column: 'balance', expected: 10, actual: 11 },
      { field: 'status', column: 'status', expected: 'open', actual: 'closed' },
    ])
  })

  it('--ignore skips a field by either spelling; --tolerance forgives small numeric differences', () => {
    const states: Array<[string, unknown]> = [['a', account('a', 10, 2)]]
    const rows = new Map([['a', row('a', '10.004', 2, { updated_at: '2020-01-01T00:00:00Z' })]])
    assert.equal(diffStates(states, rows, true).counts.changed, 1)
    assert.equal(diffStates(states, rows, true, { ignore: ['updated_at'], tolerance: 0.005 }).drift, false)
    assert.equal(diffStates(states, rows, true, { ignore: ['updatedAt'], tolerance: 0.001 }).drift, true)
  })

  it('treats a row with a higher version as ahead of the replay, not as drift', () => {
    const states: Array<[string, unknown]> = [['a', account('a', 10, 2)]]
    const rows = new Map([['a', row('a', 25, 4)]])
    const result = diffStates(states, rows, true)
    assert.equal(result.drift, false)
    assert.equal(result.counts.ahead, 1)
    assert.deepEqual(result.aheadIds, ['a'])
    // A lower version in the read model is drift: the projector lost events.
    const behind = diffStates([['a', account('a', 10, 5)]], new Map([['a', row('a', 10, 4)]]), true)
    assert.equal(behind.counts.changed, 1)
    assert.equal(diffStates(states, rows, true, { versionField: null }).counts.changed, 1)
  })

  it('uses an explicit column mapping, and lists state fields no column matches without counting them', () => {
    const states: Array<[string, unknown]> = [['a', { id: 'a', total: 3, internalNote: 'x' }]]
    const rows = new Map([['a', { id: 'a', amount_total: 3 }]])
    const result = diffStates(states, rows, true, { columns: { total: 'amount_total' } })
    assert.equal(result.drift, false)
    assert.deepEqual(result.unmapped, ['internalNote'])
  })

  it('without a listing, extra rows are unknown: only missing and changed are reported', () => {
    const states: Array<[string, unknown]> = [['a', account('a', 10, 2)]]
    const result = diffStates(states, new Map(), false)
    assert.equal(result.counts.readModel, null)
    assert.equal(result.counts.missing, 1)
    assert.equal(result.counts.extra, 0)
  })

  it('counts every drifted aggregate but keeps only --limit details', () => {
    const states: Array<[string, unknown]> = Array.from({ length: 30 }, (_, i) => [`k${i}`, { id: `k${i}`, n: i }])
    const result = diffStates(states, new Map(), true, { limit: 5 })
    assert.equal(result.counts.missing, 30)
    assert.equal(result.details.length, 5)
  })

  it('compares non-object states (counts, strings) as a value field', () => {
    const result = diffStates([['a', 3]], new Map([['a', { id: 'a', value: '3' }]]), true)
    assert.equal(result.drift, false)
  })
})

describe('diff: when two values say the same thing', () => {
  it('numbers against numeric text, booleans against 0/1, null against absent', () => {
    assert.ok(sameValue(12.5, '12.50'))
    assert.ok(sameValue(7, 7n))
    assert.ok(!sameValue(12.5, '12.6'))
    assert.ok(sameValue(12.5, '12.6', 0.1 + 1e-9))
    assert.ok(sameValue(true, 1))
    assert.ok(sameValue(false, 0))
    assert.ok(sameValue(true, 't'))
    assert.ok(!sameValue(true, 0))
    assert.ok(sameValue(null, undefined))
    assert.ok(!sameValue(null, 0))
    assert.ok(!sameValue(0, null))
    assert.ok(!sameValue('', null))
  })

  it('instants: epoch ms against ISO text, Date values and PostgreSQL timestamp text', () => {
    const ms = Date.UTC(2026, 10, 25, 10, 30, 0, 250)
    assert.ok(sameValue(ms, '2026-11-25T10:30:00.250Z'))
    assert.ok(sameValue(ms, new Date(ms)))
    assert.ok(sameValue('2026-11-25T10:30:00.250Z', '2026-11-25 10:30:00.25+00'))
    assert.ok(sameValue('2026-11-25T10:30:00.250Z', new Date(ms)))
    assert.ok(!sameValue(ms, '2026-11-25T10:30:01.250Z'))
    assert.ok(sameValue(ms, '2026-11-25T10:30:01.250Z', 1000))
    assert.ok(!sameValue('2026-11-25', 'tomorrow'))
  })

  it('date text without a zone is a wall clock in timeZone (default UTC), whatever TZ es runs in', () => {
    const ms = Date.UTC(2022, 9, 28, 9, 40, 0, 123)
    assert.equal(toInstant('2022-10-28 09:40:00.123'), ms)
    assert.equal(toInstant('2022-10-28T09:40:00.123456'), ms)
    assert.equal(toInstant('2022-10-28 12:40:00.123', 'Europe/Istanbul'), ms)
    assert.equal(toInstant('2022-10-28 18:40:00.123', 'Asia/Tokyo'), ms)
    assert.equal(toInstant('2022-10-28 09:40', 'UTC'), ms - 123)
    // A zone in the text wins over timeZone.
    assert.equal(toInstant('2022-10-28 09:40:00.123+00', 'Asia/Tokyo'), ms)
    assert.equal(toInstant('2022-10-28T09:40:00.123Z', 'Asia/Tokyo'), ms)
    // Across daylight saving time: Berlin is UTC+2 in summer, UTC+1 in winter.
    assert.equal(toInstant('2022-07-01 12:00:00', 'Europe/Berlin'), Date.UTC(2022, 6, 1, 10))
    assert.equal(toInstant('2022-12-01 12:00:00', 'Europe/Berlin'), Date.UTC(2022, 11, 1, 11))
    assert.ok(sameValue(ms, '2022-10-28 18:40:00.123', 0, 'Asia/Tokyo'))
    assert.ok(!sameValue(ms, '2022-10-28 18:40:00.123'))
    assert.ok(sameValue(ms, '2022-10-28 09:40:00.123'))
    const states: Array<[string, unknown]> = [['a', { creationDate: ms }]]
    const rows = new Map([['a', { id: 'a', creation_date: '2022-10-28 12:40:00.123' }]])
    assert.equal(diffStates(states, rows, true).drift, true)
    assert.equal(diffStates(states, rows, true, { timeZone: 'Europe/Istanbul' }).drift, false)
    assert.ok(isTimeZone('Asia/Tokyo') && isTimeZone('UTC') && !isTimeZone('Mars/Olympus'))
  })

  it('objects and arrays, also against their JSON text, field by field', () => {
    assert.ok(sameValue({ a: 1, b: [1, 2] }, '{"b":[1,2],"a":1}'))
    assert.ok(sameValue({ a: 1.0001 }, { a: 1 }, 0.001))
    assert.ok(!sameValue({ a: 1 }, { a: 1, b: 2 }))
    assert.ok(!sameValue([1, 2], [2, 1]))
    assert.ok(!sameValue({ a: 1 }, 'not json'))
    assert.ok(!sameValue('a', 'b'))
  })

  it('normalizes names by case, underscores and dashes', () => {
    assert.equal(normalizeName('updatedAt'), normalizeName('updated_at'))
    assert.equal(normalizeName('Updated-At'), 'updatedat')
  })
})
