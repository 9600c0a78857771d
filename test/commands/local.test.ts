import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { freePort, isListening } from '../../src/local/broker.js'
import { runEs } from '../support/cli.js'
import { kcatConsume, kcatProduce } from '../support/kcat.js'

const execFileAsync = promisify(execFile)

describe('es local start|status|stop (real broker, real binary)', () => {
  let home: string
  let port: number
  let env: NodeJS.ProcessEnv

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'es-local-test-'))
    port = await freePort()
    env = { ES_HOME: home }
  })

  after(async () => {
    await runEs(['local', 'stop', '--port', String(port)], { env })
    await rm(home, { recursive: true, force: true })
  })

  it('starts a broker that an independent client (kcat) lists, and reports it', async () => {
    const start = await runEs(['local', 'start', '--port', String(port)], { env, timeoutMs: 120_000 })
    assert.equal(start.code, 0, start.stderr)
    assert.equal(start.stdout.trim(), `127.0.0.1:${port}`)

    // Ready when start returns: the very first client request is served (librdkafka does not retry
    // a produce whose connection the broker drops while it is still catching up).
    await kcatProduce(`127.0.0.1:${port}`, 'first.topic', [['k', '{"first":true}']])
    const first = await kcatConsume(`127.0.0.1:${port}`, 'first.topic')
    assert.deepEqual(
      first.map((r) => r.payload),
      ['{"first":true}'],
    )

    const { stdout } = await execFileAsync('kcat', ['-b', `127.0.0.1:${port}`, '-L', '-m', '10'])
    assert.match(stdout, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${port}`))

    const status = await runEs(['local', 'status', '--port', String(port), '--json'], { env })
    assert.equal(status.code, 0, status.stderr)
    const parsed = JSON.parse(status.stdout)
    assert.equal(parsed.running, true)
    assert.equal(parsed.port, port)
    assert.equal(parsed.kafkaVersion, '4.1.1')
    assert.ok(parsed.pid > 0)
    assert.ok(parsed.dataDir.startsWith(home))
  })

  it('a second start while running succeeds without a second broker', async () => {
    const before = JSON.parse((await runEs(['local', 'status', '--port', String(port), '--json'], { env })).stdout)
    const again = await runEs(['local', 'start', '--port', String(port), '--json'], { env })
    assert.equal(again.code, 0, again.stderr)
    const result = JSON.parse(again.stdout)
    assert.equal(result.alreadyRunning, true)
    assert.equal(result.pid, before.pid)
  })

  it('stop shuts the broker down and frees the port', async () => {
    const stop = await runEs(['local', 'stop', '--port', String(port), '--json'], { env })
    assert.equal(stop.code, 0, stop.stderr)
    assert.equal(JSON.parse(stop.stdout).wasRunning, true)
    assert.equal(await isListening(port), false)
    const status = await runEs(['local', 'status', '--port', String(port), '--json'], { env })
    assert.equal(JSON.parse(status.stdout).running, false)
  })

  it('refuses a port taken by something else with exit 4 naming the port', async () => {
    const busy = createServer()
    const busyPort = await freePort()
    await new Promise<void>((resolve) => busy.listen(busyPort, '127.0.0.1', resolve))
    try {
      const start = await runEs(['local', 'start', '--port', String(busyPort)], { env })
      assert.equal(start.code, 4)
      assert.match(start.stderr, new RegExp(`port ${busyPort} is already in use`))
      assert.equal(start.stderr.trim().split('\n').length, 1)
    } finally {
      busy.close()
    }
  })

  it('says what to install when Java is missing (exit 3)', async () => {
    const start = await runEs(['local', 'start', '--port', String(await freePort())], {
      env: { ...env, PATH: '/nonexistent' },
    })
    assert.equal(start.code, 3, start.stderr)
    assert.match(start.stderr, /java was not found.*install a Java runtime/)
  })
})

describe('es CLI conventions', () => {
  it('lists commands in --help', async () => {
    const help = await runEs(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /local/)
  })

  it('exits 2 on an unknown flag with a one-line error', async () => {
    const result = await runEs(['local', 'status', '--bogus'])
    assert.equal(result.code, 2)
    assert.equal(result.stderr.trim().split('\n').length, 1)
    assert.match(result.stderr, /--bogus/)
  })
})
