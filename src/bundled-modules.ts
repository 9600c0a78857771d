/**
 * The large CommonJS libraries every command runs on, each bundled into one file (dist/vendor/:
 * kafkajs.cjs, oclif.cjs, yaml.cjs, written by scripts/bundle.mjs), and es's compiled config
 * validator, compiled with V8's code cache, which the build writes beside each file for the
 * Node.js that built it (scripts/code-cache.mjs). Start-up, see the README
 * ("How the build works"): kafkajs from its ~85 files cost ≈40–60 ms of a command, one file ≈23 ms,
 * with its code cache ≈13 ms; oclif's ≈45 ms become ≈22 ms.
 *
 * A cache written by another Node.js (or one V8 rejects, e.g. for other V8 flags) is not used: the
 * file is compiled from source, the same code, only slower. Each module loads once per thread.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Script } from 'node:vm'
import { packageFile } from './package-root.js'

/** Each bundle, by its file in the package: the libraries in dist/vendor/, and es's config validator (scripts/config-validator.mjs). */
const BUNDLES = {
  kafkajs: 'dist/vendor/kafkajs.cjs',
  oclif: 'dist/vendor/oclif.cjs',
  yaml: 'dist/vendor/yaml.cjs',
  'config-validator': 'dist/src/config/config-validator.cjs',
} as const

export type BundledModuleName = keyof typeof BUNDLES

/** How a bundled module was compiled: with its code cache, or from source (no cache for this Node.js, or rejected). */
export type CodeCacheUse = 'accepted' | 'rejected' | 'absent'

const loaded = new Map<BundledModuleName, unknown>()
const cacheUse = new Map<BundledModuleName, CodeCacheUse>()

function bundleFiles(name: BundledModuleName): { source: string; codeCache: string } {
  const source = packageFile(BUNDLES[name])
  return { source, codeCache: source.replace(/\.cjs$/, `.node-${process.version}-${process.arch}.code-cache`) }
}

type CommonJsWrapper = (
  exports: unknown,
  require: NodeJS.Require,
  module: { exports: unknown },
  filename: string,
  dirname: string,
) => void

/** Compiles and runs a bundle as Node.js runs a CommonJS file: its exports and the compiled script. */
function run(name: BundledModuleName, cachedData?: Buffer): { script: Script; exports: unknown } {
  const { source } = bundleFiles(name)
  const script = new Script(Module.wrap(readFileSync(source, 'utf8')), {
    filename: source,
    cachedData,
  })
  const module = { exports: {} as unknown }
  ;(script.runInThisContext() as CommonJsWrapper)(
    module.exports,
    createRequire(source),
    module,
    source,
    dirname(source),
  )
  // A bundle's import() calls (oclif's, of ES-module commands) are calls of this, see scripts/bundle.mjs.
  const { dynamicImport } = module.exports as {
    dynamicImport?: { importModule?: (specifier: string) => Promise<unknown> }
  }
  if (dynamicImport) dynamicImport.importModule = (specifier) => import(specifier)
  return { script, exports: module.exports }
}

/** The exports of a bundled module, loaded on first use. */
export function loadBundled<T>(name: BundledModuleName): T {
  if (loaded.has(name)) return loaded.get(name) as T
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(bundleFiles(name).codeCache)
  } catch {
    // None for this Node.js: compiled from source.
  }
  const { script, exports } = run(name, cachedData)
  cacheUse.set(name, cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted')
  loaded.set(name, exports)
  return exports as T
}

/** Whether a loaded bundle was compiled with its code cache (undefined: not loaded in this thread). */
export function codeCacheUse(name: BundledModuleName): CodeCacheUse | undefined {
  return cacheUse.get(name)
}

/**
 * Writes a bundle's code cache for this Node.js (the build does, scripts/code-cache.mjs): compiled
 * and run first, then `exercise`d (what a command does first with it), so that the cache holds the
 * functions those ran, not only its top level.
 */
export async function writeCodeCache(
  name: BundledModuleName,
  exercise: (exports: unknown) => unknown = () => undefined,
): Promise<string> {
  const { script, exports } = run(name)
  await exercise(exports)
  const file = bundleFiles(name).codeCache
  writeFileSync(file, script.createCachedData())
  return file
}
