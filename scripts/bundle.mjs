// Bundles the CLI for start-up (README, "How the build works"): oclif's entry (dist/oclif.js, which
// bin/run.js imports) and each compiled command (dist/commands/**/*.js, in place) become a few
// files sharing chunks (dist/chunks/), so one copy of @oclif/core and every other module is loaded
// from a handful of files instead of ~400 (resolving and reading them was most of the start-up).
// kafkajs, oclif and yaml, all CommonJS, are bundled apart, each into one CommonJS file
// (dist/vendor/), which src/bundled-modules.ts compiles with the V8 code cache scripts/code-cache.mjs writes (ES
// modules cannot take one in Node.js 20): the commands' imports of @oclif/core and yaml read that
// one copy, and es's kafkajs internals (src/kafka/kafkajs-internals.ts) load theirs from dist/src too.
// Left in node_modules: better-sqlite3 (a native addon) and typescript (10 MB, loaded only to
// compile a reducer written in TypeScript). dist/src stays as tsc wrote it (the tests and the
// command_not_found hook import it directly), but for the fold worker, bundled in place.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { asciiSource } from './ascii-source.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')

function files(dir, extension = '.js') {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? files(path, extension) : path.endsWith(extension) ? [path] : []
  })
}

rmSync(join(dist, 'chunks'), { recursive: true, force: true })
rmSync(join(dist, 'vendor'), { recursive: true, force: true })
const require = createRequire(import.meta.url)
const oclifCore = require.resolve('@oclif/core')
const bundledModules = join(dist, 'src/bundled-modules.js')

// kafkajs: its public module (loaded when first asked for: a tail or a send needs only the
// internals) and the private modules es drives; its Produce request (v3, which v4–v7 wrap) and its grouping of
// messages are replaced by calls to the hooks src/kafka/produce-encoding.ts fills in.
const kafkajsEntry = `module.exports = {
  version: require('kafkajs/package.json').version,
  get kafkajs() { return require('kafkajs') },
  Cluster: require('kafkajs/src/cluster/index.js'),
  createProducer: require('kafkajs/src/producer/index.js'),
  loggers: require('kafkajs/src/loggers/index.js'),
  socketFactory: require('kafkajs/src/network/socketFactory.js'),
  protocolErrors: require('kafkajs/src/protocol/error.js'),
  requests: require('kafkajs/src/protocol/requests/index.js'),
  Encoder: require('kafkajs/src/protocol/encoder.js'),
  compression: require('kafkajs/src/protocol/message/compression/index.js'),
  producerHooks: require('es:producer-hooks'),
}`
const producerHooks = {
  name: 'kafkajs-producer-hooks',
  setup(build) {
    build.onResolve({ filter: /^es:producer-hooks$/ }, () => ({ path: 'producer-hooks', namespace: 'es' }))
    build.onLoad({ filter: /.*/, namespace: 'es' }, () => ({ contents: 'module.exports = {}', loader: 'js' }))
    const replaced = (filter, hook) =>
      build.onLoad({ filter }, () => ({
        contents: `const hooks = require('es:producer-hooks')\nmodule.exports = (...args) => hooks.${hook}(...args)\n`,
        loader: 'js',
      }))
    replaced(/[\\/]kafkajs[\\/]src[\\/]protocol[\\/]requests[\\/]produce[\\/]v3[\\/]request\.js$/, 'produceRequest')
    replaced(/[\\/]kafkajs[\\/]src[\\/]producer[\\/]groupMessagesPerPartition\.js$/, 'groupMessagesPerPartition')
  },
}
// oclif: its public module and its parser's error classes (which it does not export), with two
// edits of its source, each checked below:
// - it imports ES-module commands with import(), which a script compiled with a code cache cannot
//   run in Node.js 20 (no callback for it without --experimental-vm-modules): each `await import(`
//   of a computed specifier in the files it bundles (oclif's, lilconfig's) calls the import() that
//   src/bundled-modules.ts gives instead;
// - it sorts each plugin's commands with localeCompare at every start, whose first call loads
//   ICU's collation data (≈9 ms): the bundle compares the ids by code unit, the same order for
//   es's and its plugin's commands (test/unit/bundled-modules.test.ts).
const oclifEntry = `module.exports = {
  core: require(${JSON.stringify(oclifCore)}),
  parserErrors: require(${JSON.stringify(join(dirname(oclifCore), 'parser/errors.js'))}),
}`
const commandOrder = '.sort((a, b) => a.id.localeCompare(b.id))'
// Code compiled with a code cache runs no import() of its own (src/bundled-modules.ts): each
// `await import(` of a computed specifier or of a module left in node_modules calls the import()
// es gives instead (esbuild bundles the others).
const EXTERNAL = ['better-sqlite3', 'typescript', 'kafkajs']
const IMPORT_CALL = new RegExp(`await import\\((?!\\s*["'\`](?!(?:${EXTERNAL.join('|')})["'\`]))`, 'g')
const importCalls = (code) => code.replace(IMPORT_CALL, "await globalThis[Symbol.for('es.import')](")
const oclifEdits = {
  name: 'oclif-edits',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, ({ path }) => {
      const read = readFileSync(path, 'utf8')
      let code = importCalls(read)
      if (/[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/.test(path)) {
        if (!code.includes(commandOrder)) throw new Error(`${path}: oclif no longer sorts commands with localeCompare`)
        code = code.replace(commandOrder, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))')
      }
      return code === read ? undefined : { contents: code, loader: 'js' }
    })
  },
}
// yaml (the config files): its public module.
const yamlEntry = "module.exports = { core: require('yaml') }"
for (const [name, contents, plugins] of [
  ['kafkajs', kafkajsEntry, [producerHooks]],
  ['oclif', oclifEntry, [oclifEdits]],
  ['yaml', yamlEntry, []],
]) {
  await build({
    stdin: { contents, resolveDir: root, sourcefile: `${name}-entry.cjs`, loader: 'js' },
    outfile: join(dist, 'vendor', `${name}.cjs`),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['typescript'],
    plugins,
    logLevel: 'warning',
  })
}
const oclifBundle = readFileSync(join(dist, 'vendor/oclif.cjs'), 'utf8')
if (
  new RegExp(IMPORT_CALL.source).test(oclifBundle) ||
  !oclifBundle.includes('Symbol.for("es.import")') ||
  oclifBundle.includes(commandOrder)
) {
  throw new Error(
    "dist/vendor/oclif.cjs: oclif's import() of commands or its command sort was not replaced (has oclif changed?)",
  )
}

// In the ES-module bundles, @oclif/core and yaml are the bundled copies (their `core`), by the
// names they export.
const fromVendor = {
  name: 'from-vendor',
  setup(build) {
    build.onResolve({ filter: /^(@oclif\/core|yaml)$/ }, ({ path }) => ({ path, namespace: 'es-vendor' }))
    build.onLoad({ filter: /.*/, namespace: 'es-vendor' }, ({ path }) => ({
      contents: `import { loadBundled } from ${JSON.stringify(bundledModules)}
const { core } = loadBundled(${JSON.stringify(path === 'yaml' ? 'yaml' : 'oclif')})
export const { ${Object.keys(require(path)).join(', ')} } = core
export default core
`,
      loader: 'js',
      resolveDir: dist,
    }))
  },
}
writeFileSync(join(dist, 'oclif.js'), "// Generated by scripts/bundle.mjs.\nexport { execute } from '@oclif/core'\n")
const commands = files(join(dist, 'commands')).map((file) => relative(dist, file).replace(/\.js$/, ''))
// The fold worker (src/replay/parallel-fold.ts starts one per core for replay, diff and rebuild)
// and the second thread of `es send-command --batch`'s encoding (src/send/batch.ts): each thread
// loads its modules again, ~250 ms of CPU from dist/src's files.
const workers = { 'src/replay/fold-worker': 'workers/fold-worker', 'src/send/encode-worker': 'workers/encode-worker' }

// src/cli/oclif-parser-errors.ts loads oclif's parser errors from oclif's file at run time; in the
// bundle, they are the bundled oclif's.
const parserErrorsInBundle = {
  name: 'oclif-parser-errors',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]src[\\/]cli[\\/]oclif-parser-errors\.js$/ }, () => ({
      contents: `import { loadBundled } from ${JSON.stringify(bundledModules)}\nexport function parserErrorClasses() { return loadBundled('oclif').parserErrors }\n`,
      loader: 'js',
      resolveDir: dist,
    }))
  },
}
// es's own import() of a computed specifier (a reducer, a config file in JavaScript).
const esImportCalls = {
  name: 'es-import-calls',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/](src|commands)[\\/].*\.js$/ }, ({ path }) => {
      const read = readFileSync(path, 'utf8')
      const code = importCalls(read)
      return code === read ? undefined : { contents: code, loader: 'js' }
    })
  },
}

// Each command and worker: one CommonJS file (dist/vendor/commands/…, dist/vendor/workers/…) that
// src/bundled-modules.ts compiles with its code cache; everything it imports is in it but the
// libraries in dist/vendor/ (and better-sqlite3 and typescript). Modules it imports only with
// import() (the Avro and Protobuf codecs, pg, the prompts) are in it too, evaluated only when imported.
await build({
  entryPoints: [
    ...commands.map((command) => ({ in: join(dist, `${command}.js`), out: command })),
    ...Object.entries(workers).map(([file, out]) => ({ in: join(dist, `${file}.js`), out })),
  ],
  outdir: join(dist, 'vendor'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: EXTERNAL,
  define: { 'import.meta.url': '__esModuleUrl' },
  banner: { js: "var __esModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [parserErrorsInBundle, fromVendor, esImportCalls],
  logLevel: 'warning',
})
// Every bundle in ASCII (esbuild leaves comments and some regular expressions as they were).
for (const file of files(join(dist, 'vendor'), '.cjs')) writeFileSync(file, asciiSource(readFileSync(file, 'utf8')))
// None is left but src/bundled-modules.ts's own (`(specifier) => import(specifier)`, which only
// an ES-module copy of it runs).
for (const file of ['commands', 'workers'].flatMap((dir) => files(join(dist, 'vendor', dir), '.cjs'))) {
  const calls = readFileSync(file, 'utf8').match(/(?<![\w.$])import\(/g) ?? []
  if (calls.length > 1) throw new Error(`${file}: ${calls.length - 1} import() calls of its own are left`)
}

// What oclif and the threads start: ES modules (dist/commands/…, dist/src/…-worker.js, in place)
// that load their bundle, and oclif's entry (dist/oclif.js, which bin/run.js imports), sharing chunks
// (dist/chunks/): oclif itself and src/bundled-modules.ts.
const loaders = {
  name: 'bundle-loaders',
  setup(build) {
    build.onResolve({ filter: /^es-bundle:/ }, ({ path }) => ({
      path: path.slice('es-bundle:'.length),
      namespace: 'es-bundle',
    }))
    build.onLoad({ filter: /.*/, namespace: 'es-bundle' }, ({ path }) => ({
      contents: path.startsWith('commands/')
        ? `import { loadBundled } from ${JSON.stringify(bundledModules)}\nexport default loadBundled(${JSON.stringify(path)}).default\n`
        : `import { loadBundled } from ${JSON.stringify(bundledModules)}\nloadBundled(${JSON.stringify(path)})\n`,
      loader: 'js',
      resolveDir: dist,
    }))
  },
}
await build({
  entryPoints: [
    { in: join(dist, 'oclif.js'), out: 'oclif' },
    ...commands.map((command) => ({ in: `es-bundle:${command}`, out: command })),
    ...Object.entries(workers).map(([file, name]) => ({ in: `es-bundle:${name}`, out: file })),
  ],
  outdir: dist,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  plugins: [fromVendor, loaders],
  logLevel: 'warning',
})
process.stderr.write(`dist: oclif, ${commands.length} commands and ${Object.keys(workers).length} workers bundled\n`)
