/**
 * Reducers fold events into per-aggregate state: `initialState(aggregateId)` and
 * `evolve(state, event)` (returning `null` removes the aggregate). Built-ins need no code;
 * anything else is a JS or TS module exporting those two functions.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { DecodedEvent } from '../envelope/index.js'
import { ConfigError, InvalidDataError, nearMatches } from '../errors.js'

/**
 * The event a reducer sees (SPEC): the envelope decoder's event — type, ids, version, timestamp,
 * payload, headers, key and where the record came from — with the whole decoded value optional.
 */
export type ReducerEvent = Omit<DecodedEvent, 'value'> & { value?: unknown }

export interface Reducer {
  /** `latest` for a built-in, else the module's absolute path. */
  readonly name: string
  /** Changes whenever the reducer's code changes: state files written by another reducer are refused. */
  readonly identity: string
  initialState(aggregateId: string): unknown
  evolve(state: unknown, event: ReducerEvent): unknown
  /**
   * Optional: the read-model row of a state, when the fold keeps it in another form (epoch ms where
   * the table holds ISO text). `es diff` compares, and `es rebuild-projection` writes, what it
   * returns; without it, the state itself.
   */
  toReadModel?(state: unknown, aggregateId: string): unknown
}

export const BUILTIN_REDUCERS = ['latest', 'merge', 'count', 'collect'] as const
export type BuiltinReducerName = (typeof BUILTIN_REDUCERS)[number]

/** Events kept by `collect`: what a reducer sees, without the bulky raw headers. */
function collected(event: ReducerEvent) {
  return {
    type: event.type,
    id: event.id,
    causationId: event.causationId,
    version: event.version,
    timestamp: event.timestamp,
    payload: event.payload,
    topic: event.topic,
    partition: event.partition,
    offset: event.offset,
  }
}

const builtins: Record<BuiltinReducerName, Omit<Reducer, 'name' | 'identity'>> = {
  /** The last payload per aggregate. */
  latest: {
    initialState: () => null,
    evolve: (_state, event) => event.payload,
  },
  /** Payloads shallow-merged in order (`null` fields delete). */
  merge: {
    initialState: () => ({}),
    evolve: (state, event) => {
      const payload = event.payload
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return state
      const next: Record<string, unknown> = { ...(state as Record<string, unknown>) }
      for (const [field, value] of Object.entries(payload)) {
        if (value === null) delete next[field]
        else next[field] = value
      }
      return next
    },
  },
  /** Events per type. */
  count: {
    initialState: () => ({}),
    evolve: (state, event) => {
      const counts = state as Record<string, number>
      const type = event.type ?? '(untyped)'
      counts[type] = (counts[type] ?? 0) + 1
      return counts
    },
  },
  /** Every event, in order. */
  collect: {
    initialState: () => [],
    evolve: (state, event) => {
      ;(state as unknown[]).push(collected(event))
      return state
    },
  },
}

export function isBuiltinReducer(name: string): name is BuiltinReducerName {
  return (BUILTIN_REDUCERS as readonly string[]).includes(name)
}

/** Loads a built-in by name or a module by path (`.js`, `.mjs`, `.cjs`, `.ts`, `.mts`). */
export async function loadReducer(nameOrPath: string, cwd = process.cwd()): Promise<Reducer> {
  if (isBuiltinReducer(nameOrPath)) {
    return { name: nameOrPath, identity: `builtin:${nameOrPath}`, ...builtins[nameOrPath] }
  }
  const file = resolve(cwd, nameOrPath)
  if (!existsSync(file)) {
    const near = nearMatches(nameOrPath, BUILTIN_REDUCERS)
    throw new ConfigError(`reducer "${nameOrPath}" is neither a built-in nor a file (${file})`, {
      code: 'REDUCER_NOT_FOUND',
      where: { file },
      suggestion: `built-ins: ${BUILTIN_REDUCERS.join(', ')}${near.length ? `; did you mean ${near[0]}?` : ''}`,
    })
  }
  const source = await readFile(file)
  const identity = `module:${file}#${createHash('sha256').update(source).digest('hex').slice(0, 16)}`
  let module: Record<string, unknown>
  try {
    module = /\.m?ts$/.test(file)
      ? await importTypeScript(file, source.toString('utf8'))
      : ((await import(pathToFileURL(file).href)) as Record<string, unknown>)
  } catch (error) {
    throw new ConfigError(`reducer ${file} could not be loaded: ${(error as Error).message.split('\n')[0]}`, {
      code: 'REDUCER_INVALID',
      where: { file },
    })
  }
  const exports = (module.default && typeof module.default === 'object' ? module.default : module) as Record<
    string,
    unknown
  >
  const { initialState, evolve, toReadModel } = exports
  if (typeof initialState !== 'function' || typeof evolve !== 'function') {
    throw new ConfigError(`reducer ${file} must export functions initialState(aggregateId) and evolve(state, event)`, {
      code: 'REDUCER_INVALID',
      where: { file },
    })
  }
  if (toReadModel !== undefined && typeof toReadModel !== 'function') {
    throw new ConfigError(`reducer ${file} exports toReadModel, which must be a function (state, aggregateId) → row`, {
      code: 'REDUCER_INVALID',
      where: { file },
    })
  }
  return {
    name: file,
    identity,
    initialState: initialState as Reducer['initialState'],
    evolve: evolve as Reducer['evolve'],
    ...(toReadModel ? { toReadModel: toReadModel as NonNullable<Reducer['toReadModel']> } : {}),
  }
}

/**
 * TS reducers are transpiled (types stripped) next to the source, so that their relative imports
 * resolve, imported, and the transpiled file removed again.
 */
async function importTypeScript(file: string, source: string): Promise<Record<string, unknown>> {
  let ts: typeof import('typescript')
  try {
    ts = (await import('typescript')).default
  } catch {
    throw new ConfigError(`reducer ${file} is TypeScript, and the typescript package is not installed`, {
      code: 'REDUCER_INVALID',
      where: { file },
      suggestion: 'npm install typescript, or compile the reducer to .js',
    })
  }
  const result = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  })
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12)
  const out = join(dirname(file), `.${basename(file).replace(/\.m?ts$/, '')}.${hash}.es-reducer.mjs`)
  await writeFile(out, result.outputText)
  try {
    return (await import(pathToFileURL(out).href)) as Record<string, unknown>
  } finally {
    await rm(out, { force: true })
  }
}

/** States as read-model rows: through the reducer's `toReadModel` when it has one (null: no row). */
export function* readModelRows(
  entries: Iterable<[string, unknown]>,
  reducer: Pick<Reducer, 'toReadModel' | 'name'>,
): Generator<[string, unknown]> {
  const toRow = reducer.toReadModel
  for (const [id, state] of entries) {
    if (!toRow) {
      yield [id, state]
      continue
    }
    let row: unknown
    try {
      row = toRow(state, id)
    } catch (error) {
      throw new InvalidDataError(`toReadModel of reducer ${reducer.name} threw on ${id}: ${(error as Error).message}`, {
        code: 'REDUCER_FAILED',
        where: { aggregateId: id, reducer: reducer.name },
      })
    }
    if (row !== null && row !== undefined) yield [id, row]
  }
}
