/**
 * Terminal escapes from data and from arguments (the secure-by-default issue, item 5): the
 * snapshots table and error lines escape control characters — a key written by kcat with an OSC
 * title sequence, a topic name typed with one — while JSON stays exact.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { tempDir } from '../support/temp-dir.js'

const brokers = testBrokers()
// ESC ] 0 ; owned BEL: sets the terminal's title; CR and C1 CSI (0x9b) besides.
const HOSTILE = '\u001b]0;owned\u0007acc\r\u009b2J'
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

describe('terminal safety of tables and errors', () => {
  let topic: string

  before(async () => {
    topic = uniqueTopic('terminal')
    await createTopic(topic, 1)
    const dir = await tempDir('es-terminal-')
    const file = join(dir, 'value')
    await writeFile(file, `{"owner":"${'\\u001b'}[31mred","n":1}`)
    const run = spawnSync('kcat', ['-P', '-b', brokers, '-t', topic, '-k', HOSTILE, file], { encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
  })

  it('the snapshots table shows keys and values with their control characters escaped', async () => {
    const run = await runEs(['snapshots', '--topic', topic, '--brokers', brokers])
    assert.equal(run.code, 0, run.stderr)
    assert.doesNotMatch(run.stdout, CONTROL)
    assert.match(run.stdout, /\\x1b\]0;owned\\x07acc\\r\\x9b2J/)
    assert.match(run.stdout, /\\x1b\[31mred/)
    const json = await runEs(['snapshots', '--topic', topic, '--brokers', brokers, '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.ok(json.stdout.includes(JSON.stringify(HOSTILE).slice(1, -1)), json.stdout)
  })

  it('a warning quoting a field name of a record is one line without control characters', async () => {
    const fields = uniqueTopic('terminal-fields')
    await createTopic(fields, 1)
    const dir = await tempDir('es-terminal-fields-')
    const file = join(dir, 'value')
    await writeFile(file, `{"${'\\u001b'}]0;owned${'\\u0007'}x":1}`)
    const produced = spawnSync('kcat', ['-P', '-b', brokers, '-t', fields, '-k', 'k', file], { encoding: 'utf8' })
    assert.equal(produced.status, 0, produced.stderr)
    const run = await runEs(['tail', fields, '--brokers', brokers, '-e', '--where', 'payload.y == 1'])
    assert.equal(run.code, 0, run.stderr)
    const warning = run.stderr.split('\n').find((line) => line.startsWith('warning'))
    assert.ok(warning, run.stderr)
    assert.doesNotMatch(run.stderr, CONTROL)
    assert.match(warning, /\\x1b\]0;owned\\x07x/)
  })

  it('an error quoting a typed topic name is one line without control characters', async () => {
    const run = await runEs(['tail', `no${HOSTILE}\nsuch`, '--brokers', brokers, '-e'])
    assert.equal(run.code, 6, run.stderr)
    const lines = run.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, run.stderr)
    assert.doesNotMatch(run.stderr.trimEnd(), CONTROL)
    assert.match(run.stderr, /no\\x1b\]0;owned\\x07acc\\r\\x9b2J\\nsuch/)
  })
})
