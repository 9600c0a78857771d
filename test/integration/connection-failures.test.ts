/**
 * Addresses that are not a broker, as operators mistype them, with the real binary:
 * - nothing listening (connection refused): exit 4 after a few quick retries, not after the
 *   connection timeout (the config allows 60 s; each run gets 20 s, so waiting fails the test);
 * - a port that accepts and never answers: still waits for the whole (short) timeout, and says so;
 * - the test broker's controller port (a KRaft listener that speaks Kafka but not a broker's
 *   APIs): exit 4 "is not a broker listener (the local broker is at …)", not exit 70.
 */
import assert from 'node:assert/strict'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { freePort } from '../../src/local/broker.js'
import { runEs } from '../support/cli.js'
import { testBrokers } from '../support/kafka.js'
import { tempDir } from '../support/temp-dir.js'

const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

describe('es against addresses that are not a broker', () => {
  let dir: string
  let silent: Server
  const sockets: Socket[] = []

  before(async () => {
    dir = await tempDir('es-connect-')
    silent = createServer((socket) => {
      sockets.push(socket) // accepted, never answered
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  })

  after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
  })

  async function tailWith(name: string, config: string, env: NodeJS.ProcessEnv = {}) {
    const file = join(dir, `${name}.yaml`)
    await writeFile(file, `${config}\n`)
    return runEs(['tail', 'any.topic', '-e', '--config', file], { env: { ...cleanEnv, ...env }, timeoutMs: 20_000 })
  }

  it('a refused connection exits 4 after a few quick retries, long before the connection timeout', async () => {
    const port = await freePort()
    const run = await tailWith('refused', `brokers: 127.0.0.1:${port}\nconnectionTimeout: 60s`)
    assert.equal(run.code, 4, run.stderr)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.match(run.stderr, new RegExp(`Kafka at 127\\.0\\.0\\.1:${port} refused the connection: nothing listens`))
    assert.match(run.stderr, /check that the broker runs/)
  })

  it('a connection that is never answered still waits for the connection timeout', async () => {
    const { port } = silent.address() as { port: number }
    const run = await tailWith('silent', `brokers: 127.0.0.1:${port}\nconnectionTimeout: 2s`)
    assert.equal(run.code, 4, run.stderr)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.match(run.stderr, new RegExp(`Kafka at 127\\.0\\.0\\.1:${port} did not answer within 2000 ms`))
  })

  it("the local broker's controller port is exit 4 naming the broker listener, not an internal error", async () => {
    const home = process.env.ES_TEST_KAFKA_HOME
    assert.ok(home, 'ES_TEST_KAFKA_HOME is set by test/run.ts')
    const record = JSON.parse(await readFile(join(home, 'broker.json'), 'utf8')) as {
      port: number
      controllerPort: number
    }
    assert.equal(`127.0.0.1:${record.port}`, testBrokers())
    // An ES_HOME in which the test broker is a local broker, as `es local start` would record it.
    const esHome = join(dir, 'es-home')
    await mkdir(join(esHome, 'local'), { recursive: true })
    await symlink(home, join(esHome, 'local', String(record.port)))
    for (const extra of [[], ['--verbose']]) {
      const run = await runEs(
        ['tail', 'any.topic', '-e', '--brokers', `127.0.0.1:${record.controllerPort}`, ...extra],
        {
          env: { ...cleanEnv, ES_HOME: esHome },
          timeoutMs: 20_000,
        },
      )
      assert.equal(run.code, 4, run.stderr)
      const error = run.stderr.split('\n').find((line) => line.startsWith('error:'))
      assert.equal(
        error?.replace(/ \(it answers.*$/, ''),
        `error: 127.0.0.1:${record.controllerPort} is not a broker listener (the local broker is at 127.0.0.1:${record.port})`,
        run.stderr,
      )
      assert.doesNotMatch(run.stderr, /internal error|this is a bug/)
    }
  })
})
