/**
 * A worker thread of `parallelFold`: folds its partition ranges with its own reader, decoder and
 * reducer, and posts the aggregates changed since the last checkpoint together with its positions.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { asFileSystemError, toThreadError } from '../errors.js'
import { HeapBudget, HeapGuard } from '../heap.js'
import { openRuntime } from '../service/runtime.js'
import { SpillingStateStore } from '../stores/spilling-state-store.js'
import { SqliteStateStore, STATE_FILE_RESUME_ADVICE } from '../stores/sqlite-state-store.js'
import type { OpenedState, PartitionOffsets, StateStore } from '../stores/state-store.js'
import { encodeStateRows } from './encoded-rows.js'
import { fold } from './fold.js'
import type { FoldWorkerInput, FoldWorkerMessage } from './parallel-fold.js'
import { loadReducer } from './reducer.js'

const port = parentPort!
const post = (message: FoldWorkerMessage) => port.postMessage(message)

/**
 * Keeps this worker's aggregates of an in-memory replay; its one commit, at the end, posts them
 * all (or nothing, when nobody reads them).
 */
class CollectingStore implements StateStore {
  readonly location = 'worker'
  private readonly states = new Map<string, unknown>()

  constructor(private readonly collect: boolean) {}

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
  }
  delete(id: string) {
    this.states.delete(id)
  }
  async commit(offsets: PartitionOffsets): Promise<void> {
    // Only the final commit happens (deleted aggregates never reach the main thread).
    post({ kind: 'checkpoint', changes: this.collect ? [...this.states] : [], offsets: [...offsets] })
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
    // Or into the replay's state file, shared with the other workers (bounded memory, crash-safe).
    const shared =
      input.sharedFile && new SqliteStateStore(input.sharedFile.path, { cache: input.sharedFile.cache, shared: true })
    await shared?.open(input.sharedFile!.identity, { fresh: true })
    const store = file ?? shared ?? new CollectingStore(input.collect)
    const onFile = file !== undefined || shared !== undefined
    const result = await fold({
      heapGuard: onFile ? undefined : { guard: new HeapGuard(), where: ' in one of the replay threads' },
      heapBudget: shared
        ? new HeapBudget(input.sharedFile!.heapFloorBytes)
        : file && onceOnFile(file, new HeapBudget(input.stateFile!.heapFloorBytes)),
      batches: runtime.reader.read(input.ranges),
      total: input.ranges.reduce((sum, r) => sum + (r.end ?? r.start) - r.start, 0),
      startOffsets: new Map(input.ranges.map((r) => [`${r.topic}/${r.partition}`, r.start])),
      decode,
      reducer,
      reducerLabel: reducer.name,
      store,
      onError: input.onError,
      // In memory everything is posted once, at the end; a state file commits as a replay's does.
      checkpointEvents: onFile ? input.checkpointEvents : Number.POSITIVE_INFINITY,
      checkpointMs: onFile ? undefined : Number.POSITIVE_INFINITY,
      onProgress: (p) => post({ kind: 'progress', done: p.done, events: p.events }),
    })
    const aggregates = store.size
    // Every state is in the file before the main thread, told done, reads it — or, when they all
    // fit in memory, they come with the message and no file is written.
    const states = await file?.release()
    await shared?.close()
    post({
      kind: 'done',
      events: result.events,
      skippedCount: result.skippedCount,
      skipped: result.skipped,
      aggregates,
      offsets: [...result.offsets],
      ...(states === undefined
        ? {}
        : input.encodeRows
          ? { encodedRows: encodeStateRows(states, reducer, input.encodeRows) }
          : { statesJson: JSON.stringify(states) }),
    })
  } finally {
    await runtime.close()
  }
}

main(workerData as FoldWorkerInput).catch((error: unknown) => {
  const shared = (workerData as FoldWorkerInput).sharedFile
  const named = shared ? asFileSystemError(error, `state file ${shared.path}`, STATE_FILE_RESUME_ADVICE) : error
  post({ kind: 'error', ...toThreadError(named, 'a replay worker') })
})
