/**
 * The sample bank service's load generator (examples/bank/loadgen.ts) as a test helper: valid
 * account event streams, written to the real broker by kafkajs in bulk.
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')

/** Runs the load generator with `args` (`--brokers`, `--events`, `--accounts`, `--topic`, …). */
export function loadgen(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'dist/examples/bank/loadgen.js'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`loadgen exited ${code}: ${stderr}`))))
  })
}
