/**
 * After `npm run demo`, the README's `es send-command … --wait` needs the sample service:
 * `npm run demo:serve` (dist/examples/demo.js serve) runs it on the demo's broker and read model
 * until Ctrl-C. Tested on the test broker: a command sent with --wait is answered; Ctrl-C stops it.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { repoRoot } from '../support/bank-service.js'
import { runEs } from '../support/cli.js'
import { testBrokers } from '../support/kafka.js'
import { waitFor } from '../support/poll.js'

describe('npm run demo:serve', () => {
  it("serves the sample bank service on the demo's read model until Ctrl-C", async () => {
    const port = testBrokers().split(',')[0].split(':')[1]
    const serve = spawn(process.execPath, [join(repoRoot, 'dist/examples/demo.js'), 'serve'], {
      env: { ...process.env, ES_DEMO_PORT: port, ES_CONFIG: undefined, ES_BROKERS: undefined },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    serve.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const exited = new Promise<number | null>((resolve) => serve.on('close', resolve))
    try {
      await waitFor(
        'the service to be served',
        async () => stderr,
        (text) => /serving the sample bank service/.test(text),
        { timeoutMs: 90_000, intervalMs: 200 },
      )
      const config = /export ES_CONFIG=(\S+)/.exec(stderr)?.[1]
      assert.equal(config, join(repoRoot, '.es/demo', port, 'es.config.yaml'))
      const account = `acc-${randomBytes(4).toString('hex')}`
      const run = await runEs(
        [
          'send-command',
          'OpenAccount',
          '--key',
          account,
          '--data',
          '{"owner":"Ada"}',
          '--wait',
          '--timeout',
          '60s',
          '--json',
        ],
        { env: { ES_CONFIG: config, ES_BROKERS: undefined } },
      )
      assert.equal(run.code, 0, run.stderr)
      assert.equal(JSON.parse(run.stdout).outcome, 'accepted')
    } finally {
      serve.kill('SIGINT')
    }
    assert.equal(await exited, 0, stderr)
  })
})
