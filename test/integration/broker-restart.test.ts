/**
 * Trust at 3 a.m.: `es tail` following a topic keeps going when its broker restarts. A broker of
 * its own (the same code as `es local`) is stopped and started again under the follow; the
 * records written before and after show up once each, in order, and SIGINT still exits 0.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { freePort, startBroker, stopBroker } from '../../src/local/broker.js'
import { ndjsonLines, type RunningEs, startEs } from '../support/cli.js'
import { kcatProduce } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'
import { tempDir } from '../support/temp-dir.js'

describe('es tail across a broker restart', () => {
  it('follows on after the broker comes back, without losing or repeating a record', async () => {
    const home = join(await tempDir('es-restart-'), 'broker')
    const port = await freePort()
    const brokers = `127.0.0.1:${port}`
    const topic = 'restart.events'
    await startBroker({ port, home })
    let es: RunningEs | undefined
    try {
      await kcatProduce(brokers, topic, [['before', '{"n":1}']])
      es = startEs(['tail', topic, '--brokers', brokers, '--from', 'beginning', '--format', 'ndjson'], {
        env: { ES_CONFIG: undefined },
      })
      const { child, exited } = es
      const stdout = () => es!.stdout()
      const stderr = () => es!.stderr()
      await waitFor(
        'the first record',
        () => ndjsonLines(stdout()),
        (lines) => lines.length === 1,
      )

      await stopBroker({ port, home })
      await startBroker({ port, home })
      await kcatProduce(brokers, topic, [['after', '{"n":2}']])

      const lines = await waitFor(
        'the record written after the restart',
        () => ndjsonLines(stdout()),
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
        stderr(),
      )
      assert.equal(child.exitCode, null, `still following: ${stderr()}`)
      child.kill('SIGINT')
      assert.equal(await exited, 0, stderr())
    } finally {
      if (es && es.child.exitCode === null) es.child.kill('SIGKILL')
      await stopBroker({ port, home })
    }
  })
})
