#!/usr/bin/env node
// Same as run.js, with oclif's development mode (more detailed errors). Build first: npm run build.
import { execute } from '@oclif/core'

await execute({ development: true, dir: import.meta.url })
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))))
process.exit(process.exitCode ?? 0)
