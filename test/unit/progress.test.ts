import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { progressLine } from '../../src/render/progress.js'

describe('progressLine', () => {
  it('shows records done of the total, the rate and the ETA', () => {
    assert.equal(
      progressLine({ done: 250_000, total: 1_000_000, elapsedMs: 1000 }),
      ' 25.0%  250,000/1,000,000 records  250.0k/s  ETA 3.0s',
    )
  })

  it('says how many records were read ahead for a fold in rounds, so a line that stands still is explained', () => {
    const line = progressLine({ done: 100_000, total: 1_000_000, elapsedMs: 1000, pending: 400_000 })
    assert.match(line, /^ 10\.0% {2}100,000\/1,000,000 records .* 400,000 read ahead \(folding in rounds\)$/)
    assert.doesNotMatch(progressLine({ done: 1, total: 2, elapsedMs: 1, pending: 0 }), /read ahead/)
  })
})
