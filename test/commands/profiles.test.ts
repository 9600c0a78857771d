/**
 * Profiles on the real broker and the real binary: which profile is used (--profile, then
 * ES_PROFILE, then defaultProfile) and said on stderr when not the default; a profile's service
 * overrides; `es profiles`; a read-only profile refusing every write (nothing reaches the broker),
 * and `--allow-write` asking on a real terminal (tmux) naming the profile.
 */
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { esBin, ndjsonLines, runEs } from '../support/cli.js'
import { createTopic, endOffsets, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { kcatConsume, kcatProduce } from '../support/kcat.js'
import { createOwnersTable, shopServices } from '../support/shop-service.js'
import { Terminal } from '../support/terminal.js'

const brokers = testBrokers()

describe('profiles', () => {
  const dir = join(tmpdir(), uniqueTopic('es-profiles'))
  const config = join(dir, 'es.config.yaml')
  const topics = {
    devEvents: uniqueTopic('profiles-dev-events'),
    prodEvents: uniqueTopic('profiles-prod-events'),
    commands: uniqueTopic('profiles-commands'),
  }
  const group = uniqueTopic('profiles-group')
  const env = { ES_CONFIG: config, ES_PROFILE: undefined, ES_BROKERS: undefined }
  const es = (args: string[], extra: NodeJS.ProcessEnv = {}) => runEs(args, { cwd: dir, env: { ...env, ...extra } })
  let terminal: Terminal | undefined

  before(async () => {
    await mkdir(dir)
    for (const topic of Object.values(topics)) await createTopic(topic, 1)
    await kcatProduce(brokers, topics.devEvents, [['a-1', '{"type":"DevOnly","id":"d1","data":{}}']])
    await kcatProduce(brokers, topics.prodEvents, [['a-1', '{"type":"ProdOnly","id":"p1","data":{"owner":"Ada"}}']])
    const admin = testKafka().admin()
    await admin.connect()
    await admin.setOffsets({ groupId: group, topic: topics.prodEvents, partitions: [{ partition: 0, offset: '1' }] })
    await admin.disconnect()
    createOwnersTable(dir)
    const prod = `  prod:
    description: the production cluster
    brokers: [${brokers}]
    readOnly: true
    services:
      shop:
        streams: { events: ${topics.prodEvents} }
`
    const services = shopServices({ commands: topics.commands, events: topics.devEvents })
    await writeFile(config, `defaultProfile: dev\nprofiles:\n  dev:\n    brokers: ${brokers}\n${prod}${services}`)
  })

  afterEach(async () => {
    await terminal?.close()
    terminal = undefined
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const types = (stdout: string) => ndjsonLines(stdout).map((r) => r.type)

  it('uses --profile, else ES_PROFILE, else defaultProfile, and says so when it is not the default', async () => {
    const byDefault = await es(['tail', 'events', '-e', '-o', 'ndjson'])
    assert.equal(byDefault.code, 0, byDefault.stderr)
    assert.deepEqual(types(byDefault.stdout), ['DevOnly'])
    assert.doesNotMatch(byDefault.stderr, /^profile /m)

    const byEnv = await es(['tail', 'events', '-e', '-o', 'ndjson'], { ES_PROFILE: 'prod' })
    assert.equal(byEnv.code, 0, byEnv.stderr)
    assert.deepEqual(types(byEnv.stdout), ['ProdOnly'], 'the profile overrides the service stream')
    assert.match(byEnv.stderr, /^profile prod \(ES_PROFILE, read-only\)$/m)

    const byFlag = await es(['tail', 'events', '-e', '-o', 'ndjson', '--profile', 'dev'], { ES_PROFILE: 'prod' })
    assert.deepEqual(types(byFlag.stdout), ['DevOnly'])
    assert.doesNotMatch(byFlag.stderr, /^profile /m, 'dev is the default profile')

    const listed = await es(['profiles', '--json'], { ES_PROFILE: 'prod' })
    assert.equal(listed.code, 0, listed.stderr)
    assert.deepEqual(JSON.parse(listed.stdout), {
      config,
      current: { name: 'prod', chosenBy: 'env' },
      profiles: [
        { name: 'dev', brokers: [brokers], readOnly: false, current: false },
        { name: 'prod', brokers: [brokers], readOnly: true, description: 'the production cluster', current: true },
      ],
    })
    const table = await es(['profiles'])
    assert.match(table.stdout, /\*\s*│\s*dev\s*│/)
    assert.match(table.stderr, /^in use: dev \(defaultProfile\)$/m)

    const unknown = await es(['tail', 'events', '-e', '--profile', 'prd'])
    assert.equal(unknown.code, 3, unknown.stderr)
    assert.match(
      unknown.stderr.trim(),
      /^error: unknown profile "prd" \(--profile\) in .* \(did you mean prod\? profiles: dev, prod\)$/,
    )
  })

  it('a read-only profile refuses every write with exit 3 naming it; nothing reaches the broker', async () => {
    const before = await endOffsets(topics.commands)
    const refusals: Array<[string[], RegExp]> = [
      [['send-command', 'Open', '--data', '{"owner":"Ada"}', '--key', 'a-1'], /refusing to send Open/],
      [['rebuild-projection', 'owners', '--yes'], /refusing to rebuild projection owners/],
      [['rebuild-projection', 'owners', '--yes', '--handoff-group', group], /and move group .*'s offsets/],
      [['checkpoints', group, '--reset-to', 'beginning', '--yes'], /refusing to reset group .*'s offsets/],
      [['checkpoints', group, '--reset-to', 'beginning', '--execute'], /refusing to reset group/],
    ]
    for (const [args, message] of refusals) {
      const run = await es([...args, '--profile', 'prod'])
      assert.equal(run.code, 3, `${args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr, /^error: profile prod is read-only: /m)
      assert.match(run.stderr, message)
      assert.match(run.stderr, /add --allow-write to write anyway/)
    }
    assert.deepEqual(await endOffsets(topics.commands), before)
    const committed = await es(['checkpoints', group, '--json', '--profile', 'prod'])
    assert.equal(JSON.parse(committed.stdout).partitions[0].committed, 1, 'the offsets were not reset')

    // Reads and dry runs are allowed.
    assert.equal(
      (await es(['send-command', 'Open', '--data', '{"owner":"A"}', '--key', 'a', '--dry-run', '--profile', 'prod']))
        .code,
      0,
    )
    assert.equal((await es(['checkpoints', group, '--reset-to', 'beginning', '--profile', 'prod'])).code, 0)
    assert.equal((await es(['rebuild-projection', 'owners', '--dry-run', '--profile', 'prod'])).code, 0)
  })

  it('--allow-write needs --yes without a terminal, and then writes', async () => {
    const send = ['send-command', 'Open', '-d', '{"owner":"Bo"}', '-k', 'a-2', '--profile', 'prod', '--allow-write']
    const noTerminal = await es(send)
    assert.equal(noTerminal.code, 2, noTerminal.stderr)
    assert.match(noTerminal.stderr, /writing under the read-only profile prod: confirm with --yes/)
    const before = (await endOffsets(topics.commands))[0]
    const run = await es([...send, '--yes'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal((await endOffsets(topics.commands))[0], before + 1)
  })

  /** `es send-command … --profile prod --allow-write` in a real terminal. */
  async function allowWriteInTerminal(key: string): Promise<Terminal> {
    terminal = await Terminal.start(
      [
        process.execPath,
        esBin,
        'send-command',
        'Open',
        '-d',
        `{"owner":"${key}"}`,
        '-k',
        key,
        '--profile',
        'prod',
        '--allow-write',
      ],
      { cwd: dir, env },
    )
    await terminal.waitForScreen(/Profile prod is read-only\. Send Open anyway\?/)
    return terminal
  }

  it('--allow-write asks on a terminal, naming the profile: yes sends', async () => {
    const term = await allowWriteInTerminal('t-yes')
    await term.type('y')
    await term.press('Enter')
    const { code, screen } = await term.exited()
    assert.equal(code, 0, screen)
    assert.match(screen, /^sent Open /m)
    const sent = (await kcatConsume(brokers, topics.commands)).filter((r) => r.key === 't-yes')
    assert.equal(sent.length, 1)
  })

  it('--allow-write on a terminal: no sends nothing (exit 0), Ctrl-C sends nothing (exit 130, quietly)', async () => {
    const before = await endOffsets(topics.commands)
    const no = await allowWriteInTerminal('t-no')
    await no.type('n')
    await no.press('Enter')
    const declined = await no.exited()
    assert.equal(declined.code, 0, declined.screen)
    assert.match(declined.screen, /^cancelled: nothing was changed$/m)
    await no.close()
    const interrupted = await allowWriteInTerminal('t-ctrl-c')
    await interrupted.press('C-c')
    const { code, screen } = await interrupted.exited()
    assert.equal(code, 130, screen)
    assert.doesNotMatch(screen, /error|internal|at /i)
    assert.deepEqual(await endOffsets(topics.commands), before)
  })
})
