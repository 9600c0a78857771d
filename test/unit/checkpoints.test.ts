import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assessCheckpoints, planReset } from '../../src/checkpoints/assess.js'

const log = (partition: number, start: number, end: number) => ({ topic: 't', partition, start, end })
const committed = (partition: number, offset: number | null) => ({ topic: 't', partition, offset })

describe('checkpoints: committed offsets against the log', () => {
  it('tells current, behind, past the end, below the start (with events lost) and nothing committed', () => {
    const rows = assessCheckpoints(
      [log(0, 0, 10), log(1, 0, 10), log(2, 0, 10), log(3, 4, 10), log(4, 0, 10)],
      [committed(0, 10), committed(1, 7), committed(2, 12), committed(3, 1)],
    )
    assert.deepEqual(
      rows.map((r) => [r.partition, r.status, r.lag, r.lost]),
      [
        [0, 'current', 0, undefined],
        [1, 'behind', 3, undefined],
        [2, 'past-end', null, undefined],
        [3, 'below-start', 6, 3],
        [4, 'none', null, undefined],
      ],
    )
  })

  it('plans a reset: events read again (positive), skipped (negative), or a first commit', () => {
    const rows = planReset(
      [committed(0, 10), committed(1, 3)],
      [
        { topic: 't', partition: 0, offset: 4 },
        { topic: 't', partition: 1, offset: 9 },
        { topic: 't', partition: 2, offset: 0 },
      ],
    )
    assert.deepEqual(
      rows.map((r) => [r.partition, r.committed, r.target, r.replayed]),
      [
        [0, 10, 4, 6],
        [1, 3, 9, -6],
        [2, null, 0, null],
      ],
    )
  })
})
