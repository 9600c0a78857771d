// Compiles es.config.schema.json into standalone validation code (build output, not committed):
// every command validates its config, and compiling the schema with ajv at run time costs about
// as much as the rest of start-up; the generated module loads in a few milliseconds and needs
// only ajv's small runtime helpers.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Ajv from 'ajv'
import standaloneCode from 'ajv/dist/standalone/index.js'
import { asciiSource } from './ascii-source.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const schema = JSON.parse(readFileSync(join(root, 'es.config.schema.json'), 'utf8'))
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, verbose: true, code: { source: true, lines: false } })
const out = join(root, 'dist/src/config/config-validator.cjs')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(
  out,
  asciiSource(
    `// Generated from es.config.schema.json by scripts/config-validator.mjs.\n${standaloneCode(ajv, ajv.compile(schema))}\n`,
  ),
)
process.stderr.write(`${out.slice(root.length + 1)}: the config schema, compiled\n`)
