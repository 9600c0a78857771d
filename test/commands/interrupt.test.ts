/**
 * Ctrl-C is exit 130, quietly, with nothing changed: at the rebuild confirmation and at an
 * interactive prompt (real terminals, tmux), and during a command (SIGINT while `send-command
 * --wait` waits). A follow still ends with exit 0 (kcat's manners).
 */
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { esBin, startEs } from '../support/cli.js'
import { createTopic, endOffsets, testBrokers, uniqueTopic } from '../support/kafka.js'
import { kcatProduce } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'
import { createOwnersTable, shopServices } from '../support/shop-service.js'
import { Terminal } from '../support/terminal.js'

const brokers = testBrokers()

describe('Ctrl-C', () => {
  const dir = join(tmpdir(), uniqueTopic('es-interrupt'))
  const config = join(dir, 'es.config.yaml')
  const events = uniqueTopic('interrupt-events')
  const commands = uniqueTopic('interrupt-commands')
  const readModel = join(dir, 'owners.db')
  const env = { ES_CONFIG: config, ES_PROFILE: undefined, ES_BROKERS: undefined }
  let terminal: Terminal | undefined

  before(async () => {
    await mkdir(dir)
    await createTopic(events, 1)
    await createTopic(commands, 1)
    await kcatProduce(brokers, events, [['a-1', '{"type":"Opened","id":"e1","data":{"owner":"Ada"}}']])
    createOwnersTable(dir, [['a-1', 'kept']])
    await writeFile(config, `brokers: ${brokers}\n${shopServices({ commands, events })}`)
  })

  afterEach(async () => {
    await terminal?.close()
    terminal = undefined
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('at the rebuild confirmation: exit 130, quietly, the read model untouched', async () => {
    terminal = await Terminal.start([process.execPath, esBin, 'rebuild-projection', 'owners'], { cwd: dir, env })
    await terminal.waitForScreen(/Replace the read model\?/)
    await terminal.press('C-c')
    const { code, screen } = await terminal.exited()
    assert.equal(code, 130, screen)
    assert.doesNotMatch(screen, /error|internal|User force closed/i)
    const db = new Database(readModel, { readonly: true })
    assert.deepEqual(db.prepare('SELECT id, owner FROM owners').all(), [{ id: 'a-1', owner: 'kept' }])
    assert.deepEqual(
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((r) => (r as { name: string }).name),
      ['owners'],
    )
    db.close()
  })

  it('at an interactive prompt: exit 130, quietly, nothing sent', async () => {
    const before = await endOffsets(commands)
    terminal = await Terminal.start([process.execPath, esBin, 'send-command', 'Open', '-k', 'a-2', '--interactive'], {
      cwd: dir,
      env,
    })
    await terminal.waitForScreen(/\? owner/)
    await terminal.type('Bo')
    await terminal.press('C-c')
    const { code, screen, stdout } = await terminal.exited()
    assert.equal(code, 130, screen)
    assert.doesNotMatch(screen, /error|internal|User force closed/i)
    assert.equal(stdout, '')
    assert.deepEqual(await endOffsets(commands), before)
  })

  it('during a command (send-command --wait waiting): exit 130, quietly', async () => {
    const before = (await endOffsets(commands))[0]
    const es = startEs(['send-command', 'Open', '-d', '{"owner":"Cy"}', '-k', 'a-3', '--wait', '--timeout', '2m'], {
      cwd: dir,
      env,
    })
    // Produced, and now waiting for events nobody will write.
    await waitFor(
      'the command to be produced',
      async () => (await endOffsets(commands))[0],
      (end) => end > before,
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    )
    es.child.kill('SIGINT')
    assert.equal(await es.exited, 130, es.stderr())
    assert.doesNotMatch(es.stderr(), /error/)
  })

  it('a follow still ends with exit 0 at Ctrl-C', async () => {
    const es = startEs(['tail', 'events', '--from-beginning', '-o', 'ndjson'], { cwd: dir, env })
    await waitFor(
      'the first record',
      async () => es.stdout(),
      (text) => text.includes('"Opened"'),
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    )
    es.child.kill('SIGINT')
    assert.equal(await es.exited, 0, es.stderr())
  })
})
