/**
 * The code es runs, as files compiled with V8's code cache (ES modules cannot take one in Node.js
 * 20), which the build writes beside each file for the Node.js that built it
 * (scripts/code-cache.mjs):
 * - the large CommonJS libraries every command runs on, each bundled into one file (dist/vendor/:
 *   kafkajs.cjs, oclif.cjs, yaml.cjs, written by scripts/bundle.mjs), and es's compiled config
 *   validator;
 * - each command and each worker thread's code, bundled into one CommonJS file
 *   (dist/vendor/commands/, dist/vendor/workers/), which the ES-module file oclif or the thread
 *   starts (dist/commands/…, dist/src/…-worker.js) loads from here.
 * Start-up, see the README ("How the build works").
 *
 * A cache written by another Node.js (or one V8 rejects, e.g. for other V8 flags) is not used: the
 * file is compiled from source, the same code, only slower. Each file loads once per thread, also
 * when several copies of this module are loaded (the command bundles inline their own).
 */
import { isAscii } from 'node:buffer'
import { readFileSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Script } from 'node:vm'
import { packageFile } from './package-root.js'

/** The libraries and the config validator, by their files in the package. */
const LIBRARIES = {
  kafkajs: 'dist/vendor/kafkajs.cjs',
  oclif: 'dist/vendor/oclif.cjs',
  yaml: 'dist/vendor/yaml.cjs',
  'config-validator': 'dist/src/config/config-validator.cjs',
} as const

/** A library, or a command's or a worker's bundle (`commands/tail`, `workers/fold-worker`: dist/vendor/<name>.cjs). */
export type BundledModuleName = keyof typeof LIBRARIES | `commands/${string}` | `workers/${string}`

/** How a bundled module was compiled: with its code cache, or from source (no cache for this Node.js, or rejected). */
export type CodeCacheUse = 'accepted' | 'rejected' | 'absent'

interface Registry {
  loaded: Map<BundledModuleName, unknown>
  cacheUse: Map<BundledModuleName, CodeCacheUse>
}
const shared = globalThis as Record<symbol, unknown>
const REGISTRY = Symbol.for('es.bundled-modules')
shared[REGISTRY] ??= { loaded: new Map(), cacheUse: new Map() } satisfies Registry
/** What this thread has loaded, shared by every copy of this module (one per command bundle and the ES modules'). */
const registry = shared[REGISTRY] as Registry

/**
 * import() for code compiled with a code cache, which cannot run its own in Node.js 20 (no callback
 * without --experimental-vm-modules): scripts/bundle.mjs rewrites such code's `await import(` of a
 * computed specifier (oclif's of a command, es's of a reducer or a config file written in
 * JavaScript) to call this. The first copy of this module to run is an ES module (the stub that
 * loads a bundle imports it), so the function is a real import().
 */
const IMPORT = Symbol.for('es.import')
shared[IMPORT] ??= (specifier: string) => import(specifier)

function bundleFiles(name: BundledModuleName): { source: string; codeCache: string } {
  const source = packageFile(name in LIBRARIES ? LIBRARIES[name as keyof typeof LIBRARIES] : `dist/vendor/${name}.cjs`)
  return { source, codeCache: source.replace(/\.cjs$/, `.node-${process.version}-${process.arch}.code-cache`) }
}

type CommonJsWrapper = (
  exports: unknown,
  require: NodeJS.Require,
  module: { exports: unknown },
  filename: string,
  dirname: string,
) => void

function compile(name: BundledModuleName, cachedData?: Buffer): Script {
  const { source } = bundleFiles(name)
  // The build writes them in ASCII (scripts/ascii-source.mjs): decoded as one-byte text, faster than UTF-8.
  const bytes = readFileSync(source)
  const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8')
  return new Script(Module.wrap(text), { filename: source, cachedData })
}

/** Runs a compiled bundle as Node.js runs a CommonJS file: its exports. */
function run(name: BundledModuleName, script: Script): unknown {
  const { source } = bundleFiles(name)
  const module = { exports: {} as unknown }
  ;(script.runInThisContext() as CommonJsWrapper)(
    module.exports,
    createRequire(source),
    module,
    source,
    dirname(source),
  )
  return module.exports
}

/** The exports of a bundled module, loaded on first use. */
export function loadBundled<T>(name: BundledModuleName): T {
  if (registry.loaded.has(name)) return registry.loaded.get(name) as T
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(bundleFiles(name).codeCache)
  } catch {
    // None for this Node.js: compiled from source.
  }
  const script = compile(name, cachedData)
  registry.cacheUse.set(name, cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted')
  const exports = run(name, script)
  registry.loaded.set(name, exports)
  return exports as T
}

/** Whether a loaded bundle was compiled with its code cache (undefined: not loaded in this thread). */
export function codeCacheUse(name: BundledModuleName): CodeCacheUse | undefined {
  return registry.cacheUse.get(name)
}

/**
 * Writes a bundle's code cache for this Node.js (the build does, scripts/code-cache.mjs): compiled,
 * then run and `exercise`d (what a command does first with it) unless `run` is false (a worker's
 * code, which runs the thread), so that the cache holds the functions those ran, not only the
 * top level.
 */
export async function writeCodeCache(
  name: BundledModuleName,
  options: { run?: boolean; exercise?: (exports: unknown) => unknown } = {},
): Promise<string> {
  const script = compile(name)
  if (options.run ?? true) {
    const exports = run(name, script)
    await options.exercise?.(exports)
  }
  const file = bundleFiles(name).codeCache
  writeFileSync(file, script.createCachedData())
  return file
}
