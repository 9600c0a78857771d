// Writes oclif.manifest.json (build output, not committed) so that oclif finds commands and their
// flags without importing every command file at start-up: what `oclif manifest` does.
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Plugin } from '@oclif/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true })
await plugin.load()
writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest, null, 2)}\n`)
process.stderr.write(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands\n`)
