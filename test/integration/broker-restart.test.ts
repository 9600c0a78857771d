/**
 * Trust at 3 a.m.: `es tail` following a topic keeps going when its broker restarts. A broker of
 * its own (the same code as `es local`) is stopped and started again under the follow; the
 * records written before and after show up once each, in order, and SIGINT still exits 0.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { freePort, startBroker, stopBroker } from '../../src/local/broker.js'
import { esBin } from '../support/cli.js'
import { kcatProduce } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'
import { tempDir } from '../support/temp-dir.js'

function ndjson(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
}

describe('es tail across a broker restart', () => {
  it('follows on after the broker comes back, without losing or repeating a record', async () => {
    const home = join(await tempDir('es-restart-'), 'broker')
    const port = await freePort()
    const brokers = `127.0.0.1:${port}`
    const topic = 'restart.events'
    await startBroker({ port, home })
    let child: ReturnType<typeof spawn> | undefined
    try {
      await kcatProduce(brokers, topic, [['before', '{"n":1}']])
      child = spawn(
        process.execPath,
        [esBin, 'tail', topic, '--brokers', brokers, '--from', 'beginning', '--format', 'ndjson'],
        { env: { ...process.env, NO_COLOR: '1', ES_CONFIG: undefined }, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let stdout = ''
      let stderr = ''
      child.stdout?.on('data', (chunk) => {
        stdout += chunk
      })
      child.stderr?.on('data', (chunk) => {
        stderr += chunk
      })
      const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)))
      await waitFor(
        'the first record',
        () => ndjson(stdout),
        (lines) => lines.length === 1,
      )

      await stopBroker({ port, home })
      await startBroker({ port, home })
      await kcatProduce(brokers, topic, [['after', '{"n":2}']])

      const lines = await waitFor(
        'the record written after the restart',
        () => ndjson(stdout),
        (ls) => ls.length >= 2,
        {
          timeoutMs: 60_000,
        },
      )
      assert.deepEqual(
        lines.map((l) => [l.key, l.offset]),
        [
          ['before', 0],
          ['after', 1],
        ],
        stderr,
      )
      assert.equal(child.exitCode, null, `still following: ${stderr}`)
      child.kill('SIGINT')
      assert.equal(await exited, 0, stderr)
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL')
      await stopBroker({ port, home })
    }
  })
})
