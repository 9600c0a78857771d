// Bundles each compiled command (dist/commands/**/*.js) in place into one file with the modules it
// imports from dist/src and from most dependencies, so a command loads a handful of files instead
// of hundreds (module resolution and reading dominated start-up: see README, "How the build works").
// Left outside the bundles, loaded from node_modules as before:
//   @oclif/core — bin/run.js loads it too; one copy keeps its classes one;
//   better-sqlite3 — a native addon;
//   typescript — imported only to compile a reducer written in TypeScript, and 10 MB.
// dist/src stays as tsc wrote it: tests, the fold worker (dist/src/replay/fold-worker.js) and the
// hooks import it directly.
import { readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const commands = join(root, 'dist/commands')

function files(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.js') ? [path] : []
  })
}

const entries = files(commands)
await build({
  entryPoints: entries,
  outdir: commands,
  outbase: commands,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['@oclif/core', 'better-sqlite3', 'typescript'],
  // CommonJS dependencies inlined in an ES module still call require().
  banner: {
    js: "import { createRequire as esCreateRequire } from 'node:module'; const require = esCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
process.stderr.write(`dist/commands: ${entries.length} commands bundled\n`)
