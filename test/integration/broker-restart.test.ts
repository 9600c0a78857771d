/**
 * Trust at 3 a.m.: a broker of its own (the same code as `es local`) is stopped under `es`.
 * - `es tail` following a topic waits out an outage longer than its connection timeout: it says
 *   once that it waits and once that the broker is back, and the records written before and
 *   after show up once each, in order; SIGINT still exits 0.
 * - A bounded read keeps its promise instead: exit 4 within the connection timeout.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { freePort, startBroker, stopBroker } from '../../src/local/broker.js'
import { ndjsonLines, type RunningEs, startEs } from '../support/cli.js'
import { kcatProduce } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'
import { tempDir } from '../support/temp-dir.js'

const TIMEOUT_MS = 2000

describe('es when its broker goes away', () => {
  let dir: string
  let home: string
  let port: number
  let brokers: string
  let config: string

  before(async () => {
    dir = await tempDir('es-restart-')
    home = join(dir, 'broker')
    port = await freePort()
    brokers = `127.0.0.1:${port}`
    config = join(dir, 'es.config.yaml')
    await writeFile(config, `brokers: ${brokers}\nconnectionTimeout: ${TIMEOUT_MS}ms\n`)
    await startBroker({ port, home })
  })

  after(async () => {
    await stopBroker({ port, home })
  })

  it('a follow waits out an outage longer than the connection timeout, says so twice, and loses or repeats no record', async () => {
    const topic = 'restart.events'
    let es: RunningEs | undefined
    try {
      await kcatProduce(brokers, topic, [['before', '{"n":1}']])
      es = startEs(['tail', topic, '--config', config, '--from', 'beginning', '--format', 'ndjson'], {
        env: { ES_CONFIG: undefined, ES_BROKERS: undefined },
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
      await waitFor(
        'es to say it waits for the broker',
        () => stderr(),
        (text) => /waiting for it to come back/.test(text),
      )
      // Down for well over the connection timeout (a restart on a loaded machine takes longer still).
      await new Promise((resolve) => setTimeout(resolve, 3 * TIMEOUT_MS))
      assert.equal(child.exitCode, null, `still following while the broker is down: ${stderr()}`)
      await startBroker({ port, home })
      await kcatProduce(brokers, topic, [['after', '{"n":2}']])

      const lines = await waitFor(
        'the record written after the restart',
        () => ndjsonLines(stdout()),
        (ls) => ls.length >= 2,
        { timeoutMs: 60_000 },
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
      const notices = stderr().trim().split('\n')
      assert.equal(notices.length, 2, stderr())
      assert.match(
        notices[0],
        new RegExp(
          `^warning Kafka at ${brokers} is unreachable while following: .*; waiting for it to come back \\(Ctrl-C stops\\)$`,
        ),
      )
      assert.match(notices[1], new RegExp(`^Kafka at ${brokers} answers again after \\d+ s; following on$`))
      child.kill('SIGINT')
      assert.equal(await exited, 0, stderr())
    } finally {
      if (es && es.child.exitCode === null) es.child.kill('SIGKILL')
    }
  })

  it('a bounded read whose broker goes away exits 4 within the connection timeout', async () => {
    await startBroker({ port, home }) // running already, unless the test before failed with it down
    const topic = 'restart.large'
    const pad = 'x'.repeat(100_000)
    // 20 MB: far more than the reader buffers (4 MiB) while its output is not read.
    await kcatProduce(
      brokers,
      topic,
      Array.from({ length: 200 }, (_, i) => [`k${i}`, `{"n":${i},"pad":"${pad}"}`] as [string, string]),
    )
    const es = startEs(['tail', topic, '--config', config, '--from-beginning', '-e', '--format', 'raw'], {
      env: { ES_CONFIG: undefined, ES_BROKERS: undefined },
    })
    // Paused from the start, so es cannot read the whole range before the broker stops (it did, on a
    // fast run): es connects, fills the pipe and its reader's buffer, and blocks on its output.
    es.child.stdout?.pause()
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000))
      await stopBroker({ port, home })
      es.child.stdout?.resume()
      const deadline = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000).unref())
      const code = await Promise.race([es.exited, deadline])
      assert.equal(code, 4, es.stderr())
      assert.ok(es.stdout().split('\n').length - 1 < 200, 'stopped before the end')
      const lines = es.stderr().trim().split('\n')
      assert.equal(lines.length, 1, es.stderr())
      assert.match(lines[0], new RegExp(`^error: Kafka at ${brokers} (is unreachable|did not answer)`))
    } finally {
      if (es.child.exitCode === null) es.child.kill('SIGKILL')
    }
  })
})
