import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WrittenIds } from '../../src/stores/written-ids.js'

describe('WrittenIds (which ids a fresh state file may hold)', () => {
  it('never says "certainly not" for an id it was given, and rarely "maybe" for others', () => {
    const ids = new WrittenIds()
    for (let i = 0; i < 500_000; i++) ids.add(`acc-${i}`)
    for (let i = 0; i < 500_000; i++) assert.equal(ids.mayHave(`acc-${i}`), true, `acc-${i}`)
    let falsePositives = 0
    for (let i = 0; i < 100_000; i++) if (ids.mayHave(`other-${i}`)) falsePositives++
    assert.ok(falsePositives < 1_000, `${falsePositives} false positives in 100,000`)
  })
})
