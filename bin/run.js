#!/usr/bin/env node
// A reader that went away (`es tail … | head`) ends the output, not the command with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}

// `es --version` answers what oclif would, without loading oclif (start-up, see README): oclif's
// bundle is imported only below, so that a static import does not load it for --version too.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  const { readFileSync } = await import('node:fs')
  const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  const { execute } = await import('../dist/oclif.js')
  await execute({ dir: import.meta.url })
}
// Every command has finished its work: let stdout and stderr drain (pipes can be asynchronous),
// then exit, so that no lingering client socket or timer keeps the process alive.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))))
process.exit(process.exitCode ?? 0)
