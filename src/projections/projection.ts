/**
 * One place for projections: which projection (its reducer, its topics, its read model), the
 * ranges to replay with their ends fixed once, and the fold of those ranges into states and
 * read-model rows. `es replay`, `es diff` and `es rebuild-projection` all go through here, so what
 * a plan shows is exactly what runs: the ranges are fixed by the caller, once, and passed on.
 */
import type { ProjectionSpec, ReadModelSpec, ServiceConfig } from '../config/types.js'
import { ConfigError, nearMatches, UsageError } from '../errors.js'
import type { LogReader, PartitionRange } from '../kafka/log-reader.js'
import type { EndSpec } from '../kafka/offset-spec.js'
import type { FoldProgress } from '../replay/fold.js'
import type { StateFiles } from '../replay/parallel-fold.js'
import { loadReducer, type Reducer, type ReducerEvent } from '../replay/reducer.js'
import { type ReplaySummary, runReplay } from '../replay/run.js'
import { resolveTopics } from '../service/resolve.js'
import type { ServiceRuntime } from '../service/runtime.js'
import type { StateStore } from '../stores/state-store.js'

/** What a replay folds: a projection's reducer over its topics, or a reducer named ad hoc. */
export interface ReplaySource {
  projection?: ProjectionSpec
  reducer: Reducer
  topics: string[]
}

/** A projection with a read model: what `es diff` and `es rebuild-projection` work on. */
export interface ProjectionWithReadModel extends ReplaySource {
  projection: ProjectionSpec & { readModel: ReadModelSpec }
  /** `services.bank.projections.accounts.readModel`, for messages. */
  readModelPath: string
}

export function pickProjection(
  service: ServiceConfig,
  name: string | undefined,
  reducer: string | undefined,
): ProjectionSpec | undefined {
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

/** The topics a projection folds (its `source` streams, default the events stream). */
export function projectionTopics(service: ServiceConfig, projection: ProjectionSpec | undefined): string[] {
  return (projection?.source ?? ['events']).flatMap((source) => resolveTopics(service, source, undefined, 'events'))
}

/** `es replay`'s source: `--projection`, or `--reducer` (with `--topic`), or the only projection. */
export async function replaySource(
  service: ServiceConfig,
  options: { projection?: string; reducer?: string; topics?: string[] },
): Promise<ReplaySource> {
  const projection = pickProjection(service, options.projection, options.reducer)
  const reducerName = options.reducer ?? projection?.reducer
  if (!reducerName) {
    throw new UsageError('replay needs --projection <name> or --reducer <module|latest|merge|count|collect>', {
      code: 'NO_REDUCER',
      suggestion: Object.keys(service.projections).length
        ? `projections of ${service.name}: ${Object.keys(service.projections).join(', ')}`
        : 'e.g. --reducer latest',
    })
  }
  const topics = options.topics && options.topics.length > 0 ? options.topics : projectionTopics(service, projection)
  return { projection, reducer: await loadReducer(reducerName), topics }
}

/**
 * The projection a command works on, with its read model: the named one, or the service's only
 * one. `command` names the command in the suggestion (`es diff accounts`).
 */
export async function projectionWithReadModel(
  service: ServiceConfig,
  name: string | undefined,
  command: string,
): Promise<ProjectionWithReadModel> {
  const projection = pickProjection(service, name, undefined)
  if (!projection) {
    const names = Object.keys(service.projections)
    throw new UsageError(`which projection? ${service.name} has ${names.length ? names.join(', ') : 'none'}`, {
      code: 'NO_PROJECTION',
      suggestion: names.length ? `es ${command} ${names[0]}` : 'define projections (reducer + readModel) in the config',
    })
  }
  const readModelPath = `services.${service.name}.projections.${projection.name}.readModel`
  if (!projection.readModel) {
    throw new ConfigError(`projection ${projection.name} of ${service.name} has no readModel`, {
      code: 'NO_READ_MODEL',
      where: { path: readModelPath },
      suggestion: 'add readModel: {type: sqlite|postgres|http|topic, …} to the projection',
    })
  }
  return {
    projection: projection as ProjectionSpec & { readModel: ReadModelSpec },
    reducer: await loadReducer(projection.reducer),
    topics: projectionTopics(service, projection),
    readModelPath,
  }
}

/** Every partition of `topics` from its first offset to its end, fixed now (`until`: default the end). */
export function fixRanges(
  reader: Pick<LogReader, 'resolveRanges'>,
  topics: string[],
  until?: EndSpec,
): Promise<PartitionRange[]> {
  return reader.resolveRanges(topics, { from: { kind: 'beginning' }, until: until ?? { kind: 'end' } })
}

export interface FoldRequest {
  runtime: ServiceRuntime
  source: ReplaySource
  /** Fixed by `fixRanges`, once. */
  ranges: PartitionRange[]
  store: StateStore
  fromBeginning: boolean
  aggregate?: string
  trace?: (event: ReducerEvent, state: unknown) => void
  onError: 'fail' | 'skip'
  onProgress?: (progress: FoldProgress) => void
  onWarning?: (message: string) => void
  workers?: number
  /** Whether the states are read afterwards (an in-memory parallel fold that nobody reads only counts). */
  collect: boolean
  /** Temporary states: each worker thread folds into its own file (TemporaryStates.file). */
  stateFiles?: StateFiles
}

/** Folds the source's ranges into the store, with the runtime's decoder (schemas loaded as needed). */
export async function foldRanges(request: FoldRequest): Promise<ReplaySummary> {
  const { runtime, source } = request
  if (request.trace && request.aggregate === undefined) {
    throw new UsageError('--trace needs --aggregate <id>', { code: 'USAGE' })
  }
  const decode = await runtime.decoder()
  return runReplay({
    reader: runtime.reader,
    topics: source.topics,
    ranges: request.ranges,
    reducer: source.reducer,
    store: request.store,
    decode,
    fromBeginning: request.fromBeginning,
    aggregate: request.aggregate,
    onTrace: request.trace,
    onError: request.onError,
    onProgress: request.onProgress,
    onWarning: request.onWarning,
    // The id read from the key as UTF-8 text (string and bytes codecs): a fold in rounds ranges
    // records by it. Keys of other codecs may read as one id from different bytes.
    aggregateIdIsKeyText:
      runtime.service.envelope.aggregateId === 'key' && ['string', 'bytes'].includes(runtime.service.codec.key.type),
    // Workers build their own reader from the config: not with an injected (test) reader.
    parallel:
      runtime.injectedReader || runtime.service.envelope.aggregateId !== 'key'
        ? undefined
        : {
            config: runtime.config,
            service: runtime.serviceName,
            reducer: source.reducer.name,
            workers: request.workers,
            collect: request.collect,
            stateFiles: request.stateFiles,
          },
  })
}
