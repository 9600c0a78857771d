/**
 * A worker thread of `parallelFold`: folds its partition ranges with its own reader, decoder and
 * reducer, and posts the aggregates changed since the last checkpoint together with its positions.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { toThreadError } from '../errors.js'
import { HeapBudget, HeapGuard } from '../heap.js'
import { openRuntime } from '../service/runtime.js'
import { SpillingStateStore } from '../stores/spilling-state-store.js'
import type { OpenedState, PartitionOffsets, StateStore } from '../stores/state-store.js'
import { fold } from './fold.js'
import type { FoldWorkerInput, FoldWorkerMessage } from './parallel-fold.js'
import { loadReducer } from './reducer.js'

const port = parentPort!
const post = (message: FoldWorkerMessage) => port.postMessage(message)

/**
 * Keeps this worker's aggregates; each commit posts what changed (null: deleted). Without
 * intermediate checkpoints (an in-memory replay) it tracks nothing and posts everything once.
 */
class CheckpointingStore implements StateStore {
  readonly location = 'worker'
  private readonly states = new Map<string, unknown>()
  private readonly dirty = new Set<string>()

  constructor(
    private readonly trackChanges: boolean,
    private readonly collect: boolean,
  ) {}

  async open(): Promise<OpenedState> {
    return { offsets: new Map(), aggregates: 0 }
  }
  get(id: string) {
    return this.states.get(id)
  }
  has(id: string) {
    return this.states.has(id)
  }
  set(id: string, state: unknown) {
    this.states.set(id, state)
    if (this.trackChanges) this.dirty.add(id)
  }
  delete(id: string) {
    this.states.delete(id)
    if (this.trackChanges) this.dirty.add(id)
  }
  async commit(offsets: PartitionOffsets): Promise<void> {
    const changes: Array<[string, unknown]> = []
    if (this.trackChanges) {
      for (const id of this.dirty) changes.push([id, this.states.get(id) ?? null])
      this.dirty.clear()
    } else if (this.collect) {
      // Only the final commit happens: everything there is, once (deleted ones never reach main).
      for (const entry of this.states) changes.push(entry)
    }
    post({ kind: 'checkpoint', changes, offsets: [...offsets] })
  }
  entries() {
    return this.states.entries()
  }
  get size() {
    return this.states.size
  }
  async close() {}
}

/**
 * The heap budget of temporary states, from when they went to their file. While they fit in
 * memory they are bounded by the cache bound, and the heap is V8's to manage as in an in-memory
 * replay: collections forced each time it passed its floor cost the fold of `es diff` ≈ 10 % of
 * its time (measured on 1M events / 100k aggregates, 3.8 → 3.4 s) and saved nothing that lasts.
 */
function onceOnFile(store: SpillingStateStore, budget: HeapBudget): Pick<HeapBudget, 'check'> {
  return {
    check: () => {
      if (store.spilled) budget.check()
    },
  }
}

async function main(input: FoldWorkerInput): Promise<void> {
  const runtime = openRuntime(input.config, input.service)
  try {
    const reducer = await loadReducer(input.reducer)
    const decode = await runtime.decoder()
    // Into its own temporary state file (in memory while the states fit its share of the cache,
    // bounded memory past it), or every state of its partitions in memory.
    const file =
      input.stateFile === undefined
        ? undefined
        : new SpillingStateStore(input.stateFile.path, {
            cache: input.stateFile.cache,
            shared: input.stateFile.inMemory,
            fileCache: input.stateFile.fileCache,
          })
    await file?.open({ reducer: reducer.identity, topics: [] }, { fresh: true })
    const store = file ?? new CheckpointingStore(Number.isFinite(input.checkpointEvents), input.collect)
    const result = await fold({
      heapGuard: file ? undefined : { guard: new HeapGuard(), where: ' in one of the replay threads' },
      heapBudget:
        file && input.stateFile ? onceOnFile(file, new HeapBudget(input.stateFile.heapFloorBytes)) : undefined,
      batches: runtime.reader.read(input.ranges),
      total: input.ranges.reduce((sum, r) => sum + (r.end ?? r.start) - r.start, 0),
      startOffsets: new Map(input.ranges.map((r) => [`${r.topic}/${r.partition}`, r.start])),
      decode,
      reducer,
      reducerLabel: reducer.name,
      store,
      onError: input.onError,
      checkpointEvents: input.checkpointEvents,
      // In memory (no intermediate checkpoints) everything is posted once, at the end.
      checkpointMs: Number.isFinite(input.checkpointEvents) ? undefined : Number.POSITIVE_INFINITY,
      onProgress: (p) => post({ kind: 'progress', done: p.done, events: p.events }),
    })
    const aggregates = store.size
    // Every state is in the file before the main thread, told done, reads it — or, when they all
    // fit in memory, they come with the message and no file is written.
    const states = await file?.release()
    post({
      kind: 'done',
      events: result.events,
      skippedCount: result.skippedCount,
      skipped: result.skipped,
      aggregates,
      offsets: [...result.offsets],
      ...(states === undefined ? {} : { statesJson: JSON.stringify(states) }),
    })
  } finally {
    await runtime.close()
  }
}

main(workerData as FoldWorkerInput).catch((error: unknown) => {
  post({ kind: 'error', ...toThreadError(error, 'a replay worker') })
})
