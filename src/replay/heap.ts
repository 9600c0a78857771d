/**
 * The V8 heap of a fold: a guard for folds that hold every state (in memory), and a budget for
 * folds whose states live on file.
 *
 * HeapGuard — a clear end instead of a crash: an in-memory fold whose states fill the V8 heap
 * stops with a typed error (exit 5) naming the aggregates reached and suggesting a file-backed
 * state, before V8 aborts the process with "JavaScript heap out of memory".
 *
 * "Full" is judged on the old generation (where states live; V8 reports the young generation's
 * 48 MB within its limit too) as a full collection leaves it — what is live, not garbage waiting
 * to be collected. When the old generation in use passes CHECK_SHARE of its limit, a full
 * collection runs (at most once per growth of a tenth of the limit) and the fold stops if what is
 * live still passes LIVE_SHARE. V8 needs headroom to collect and to grow its spaces, so the
 * shares stay well below 1 (measured: a heap of 64 MB aborted with 47 MB in use).
 */
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { InvalidDataError } from '../errors.js'

const CHECK_SHARE = 0.6
const LIVE_SHARE = 0.65
/** V8's young generation (3 × the 16 MB semi-space), included in `heap_size_limit`. */
const YOUNG_GENERATION_BYTES = 48 * 1024 * 1024

function oldGenerationUsed(): number {
  let young = 0
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
      young += space.space_used_size
  }
  return getHeapStatistics().used_heap_size - young
}

export class HeapGuard {
  private readonly limit: number
  private nextCheck: number

  constructor() {
    const total = getHeapStatistics().heap_size_limit
    this.limit = Math.max(total / 2, total - YOUNG_GENERATION_BYTES)
    this.nextCheck = this.limit * CHECK_SHARE
  }

  /** Throws when the heap is nearly full; `aggregates` is how many states this fold holds. */
  check(aggregates: number, where = ''): void {
    if (oldGenerationUsed() < this.nextCheck) return
    collectGarbage()
    const live = oldGenerationUsed()
    this.nextCheck = Math.max(this.limit * CHECK_SHARE, live + this.limit / 10)
    if (live < this.limit * LIVE_SHARE) return
    const mb = Math.round(getHeapStatistics().heap_size_limit / (1 << 20))
    throw new InvalidDataError(
      `the in-memory state nears the heap limit of ${mb} MB after ${aggregates.toLocaleString('en-US')} aggregates${where}: stopped before running out of memory`,
      {
        code: 'HEAP_LIMIT',
        where: { aggregates, heapLimitMb: mb },
        suggestion:
          'replay into a file-backed state with --state FILE: its memory stays bounded whatever the number of aggregates',
      },
    )
  }
}

/**
 * Keeps the heap of a file-backed fold near what is live. A fold allocates a few hundred bytes
 * per event that die young or soon after promotion; V8 lets the old generation grow to ≈ 3.5× the
 * live heap before a full collection (measured: 43 MB live, 150–180 MB committed), which would
 * make the process 100 MB larger than its states need. So after a batch, when the heap in use
 * exceeds max(floor, 1.5 × what the last collection left), a full collection runs (≈ 30–50 ms for
 * 100,000 cached states, about once a second).
 */
export class HeapBudget {
  private next: number

  constructor(private readonly floorBytes = 80 * 1024 * 1024) {
    this.next = floorBytes
  }

  check(): void {
    if (getHeapStatistics().used_heap_size <= this.next) return
    collectGarbage()
    this.next = Math.max(this.floorBytes, getHeapStatistics().used_heap_size * 1.5)
  }
}

let gc: (() => void) | undefined

/** A full garbage collection (V8's `gc`, exposed on first use). */
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
}
