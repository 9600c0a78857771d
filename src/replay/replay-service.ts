/**
 * `es replay` on a configured service: pick the reducer and topics (a projection, or `--reducer`
 * and `--topic`), open the state store, fold, and optionally write the final state.
 */
import type { ProjectionSpec, ReadModelSpec, ResolvedConfig, ServiceConfig } from '../config/types.js'
import { ConfigError, nearMatches, UsageError } from '../errors.js'
import type { EndSpec } from '../kafka/offset-spec.js'
import { resolveTopics } from '../service/resolve.js'
import { openRuntime, type RuntimeOptions } from '../service/runtime.js'
import { MemoryStateStore } from '../stores/memory-state-store.js'
import { SqliteStateStore } from '../stores/sqlite-state-store.js'
import type { CacheBound } from '../stores/state-cache.js'
import type { StateStore } from '../stores/state-store.js'
import type { FoldProgress } from './fold.js'
import { loadReducer, type Reducer, type ReducerEvent, readModelRows } from './reducer.js'
import { type ReplaySummary, runReplay, writeState } from './run.js'

export interface ReplayServiceRequest {
  config: ResolvedConfig
  service?: string
  projection?: string
  reducer?: string
  topics?: string[]
  /** `memory` or a file path. */
  state: string
  /** A file-backed state's cache in memory (default DEFAULT_CACHE). */
  cache?: CacheBound
  fromBeginning: boolean
  until?: EndSpec
  aggregate?: string
  trace?: (event: ReducerEvent, state: unknown) => void
  out?: string
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  runtime?: RuntimeOptions
  /** Worker threads for the fold (1: none); default: one per core for large fresh replays. */
  workers?: number
  /** Called with the store and reducer after the replay, before the store is closed (`es diff`). */
  inspect?: (store: StateStore, reducer: Reducer) => Promise<void> | void
}

export interface ReplayServiceResult extends ReplaySummary {
  projection?: string
  /** With --aggregate: that aggregate's final state (null when it does not exist). */
  aggregateState?: unknown
  /** With --out: the file and how many aggregates were written. */
  out?: { file: string; aggregates: number }
}

export async function replayService(request: ReplayServiceRequest): Promise<ReplayServiceResult> {
  const runtime = openRuntime(request.config, request.service, request.runtime)
  const { service } = runtime
  const projection = pickProjection(service, request.projection, request.reducer)
  const reducerName = request.reducer ?? projection?.reducer
  if (!reducerName) {
    throw new UsageError('replay needs --projection <name> or --reducer <module|latest|merge|count|collect>', {
      code: 'NO_REDUCER',
      suggestion: Object.keys(service.projections).length
        ? `projections of ${service.name}: ${Object.keys(service.projections).join(', ')}`
        : 'e.g. --reducer latest',
    })
  }
  if (request.aggregate !== undefined && request.state !== 'memory') {
    // A state file holds the fold of whole topics; one aggregate's fold must not overwrite it.
    throw new UsageError('--aggregate folds a single aggregate: use it with --state memory (the default)', {
      code: 'USAGE',
    })
  }
  const reducer = await loadReducer(reducerName)
  const topics =
    request.topics && request.topics.length > 0
      ? request.topics
      : (projection?.source ?? ['events']).flatMap((source) => resolveTopics(service, source, undefined, 'events'))
  const store: StateStore =
    request.state === 'memory' ? new MemoryStateStore() : new SqliteStateStore(request.state, { cache: request.cache })
  try {
    const decode = await runtime.decoder()
    if (request.trace && request.aggregate === undefined) {
      throw new UsageError('--trace needs --aggregate <id>', { code: 'USAGE' })
    }
    const summary = await runReplay({
      reader: runtime.reader,
      topics,
      reducer,
      store,
      decode,
      fromBeginning: request.fromBeginning,
      until: request.until,
      aggregate: request.aggregate,
      onTrace: request.trace,
      onError: request.onError,
      onProgress: request.onProgress,
      onWarning: request.onWarning,
      // Workers build their own reader from the config: not with an injected (test) reader.
      parallel:
        request.runtime?.reader === undefined && service.envelope.aggregateId === 'key'
          ? {
              config: request.config,
              service: request.service,
              reducer: reducer.name,
              workers: request.workers,
              // Only --out and callers that inspect the store read the states of a memory replay.
              collect: request.state !== 'memory' || request.out !== undefined || request.inspect !== undefined,
            }
          : undefined,
    })
    const result: ReplayServiceResult = { ...summary, projection: projection?.name }
    if (request.aggregate !== undefined) result.aggregateState = store.get(request.aggregate) ?? null
    if (request.out) result.out = { file: request.out, aggregates: await writeState(request.out, store.entries()) }
    await request.inspect?.(store, reducer)
    return result
  } finally {
    await store.close()
    await runtime.close()
  }
}

export function pickProjection(service: ServiceConfig, name: string | undefined, reducer: string | undefined) {
  const names = Object.keys(service.projections)
  if (name !== undefined) {
    const projection = service.projections[name]
    if (projection) return projection
    const near = nearMatches(name, names)
    throw new ConfigError(`unknown projection "${name}" for service ${service.name}`, {
      code: 'UNKNOWN_PROJECTION',
      suggestion: names.length
        ? `known projections: ${names.join(', ')}${near.length ? `; did you mean ${near[0]}?` : ''}`
        : 'define projections in the config, or use --reducer',
    })
  }
  // Without --projection or --reducer, a service's only projection is the obvious choice.
  if (reducer === undefined && names.length === 1) return service.projections[names[0]]
  return undefined
}

/**
 * The projection a command works on, with its read model: the named one, or the service's only
 * one. `command` names the command in the suggestion (`es diff accounts`).
 */
export function projectionWithReadModel(
  service: ServiceConfig,
  name: string | undefined,
  command: string,
): ProjectionSpec & { readModel: ReadModelSpec } {
  const projection = pickProjection(service, name, undefined)
  if (!projection) {
    const names = Object.keys(service.projections)
    throw new UsageError(`which projection? ${service.name} has ${names.length ? names.join(', ') : 'none'}`, {
      code: 'NO_PROJECTION',
      suggestion: names.length ? `es ${command} ${names[0]}` : 'define projections (reducer + readModel) in the config',
    })
  }
  if (!projection.readModel) {
    throw new ConfigError(`projection ${projection.name} of ${service.name} has no readModel`, {
      code: 'NO_READ_MODEL',
      where: { path: `services.${service.name}.projections.${projection.name}.readModel` },
      suggestion: 'add readModel: {type: sqlite|postgres|http|topic, …} to the projection',
    })
  }
  return projection as ProjectionSpec & { readModel: ReadModelSpec }
}

/**
 * Replays a projection and gives its aggregates as read-model rows (through the reducer's
 * `toReadModel`), in id order: what `es diff` compares and `es rebuild-projection` writes.
 */
export async function replayReadModelRows(
  request: Omit<ReplayServiceRequest, 'inspect'>,
): Promise<{ replay: ReplayServiceResult; rows: Array<[string, unknown]> }> {
  let rows: Array<[string, unknown]> = []
  const replay = await replayService({
    ...request,
    inspect: (store, reducer) => {
      rows = [...readModelRows(store.entries(), reducer)]
    },
  })
  return { replay, rows }
}
