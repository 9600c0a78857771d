/**
 * Every command through a table of things operators type wrong, on the real binary and the real
 * broker: each is its SPEC exit code with one line on stderr naming what and where, never exit 70
 * (internal error) and never a stack trace.
 */
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { kcatProduce } from '../support/kcat.js'
import { shopServices } from '../support/shop-service.js'

const brokers = testBrokers()

describe('bad inputs: no exit 70, no stack trace, the right exit code', () => {
  const events = uniqueTopic('bad-inputs-events')
  const commands = uniqueTopic('bad-inputs-commands')
  const group = uniqueTopic('bad-inputs-group')
  const dir = join(tmpdir(), uniqueTopic('es-bad-inputs'))
  const config = join(dir, 'es.config.yaml')
  const typo = join(dir, 'typo.yaml')

  before(async () => {
    await mkdir(dir)
    await createTopic(events, 2)
    await createTopic(commands, 1)
    await kcatProduce(brokers, events, [
      ['acc-1', '{"type":"Opened","id":"e1","version":1,"data":{"owner":"Ada"}}'],
      ['acc-1', '{"type":"Deposited","id":"e2","version":2,"data":{"amount":5}}'],
    ])
    const admin = testKafka().admin()
    await admin.connect()
    await admin.setOffsets({ groupId: group, topic: events, partitions: [{ partition: 0, offset: '1' }] })
    await admin.disconnect()
    await writeFile(config, `brokers: ${brokers}\n${shopServices({ commands, events })}`)
    await writeFile(typo, `brokers: ${brokers}\nservice:\n  shop: {}\n`)
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const cases: Array<{ args: () => string[]; code: number; stderr: RegExp }> = [
    { args: () => ['tial'], code: 2, stderr: /es tial is not a command \(did you mean es tail\?/ },
    { args: () => ['local', 'strat'], code: 2, stderr: /did you mean es local start\?/ },
    { args: () => ['tail', '--bogus'], code: 2, stderr: /es tail has no flag --bogus/ },
    { args: () => ['tail', '--fro', '1h'], code: 2, stderr: /did you mean --from\?/ },
    { args: () => ['tail', '--limit', 'abc'], code: 2, stderr: /--limit: Expected an integer but received: abc/ },
    {
      args: () => ['tail', '--where', 'payload.amount >> 5'],
      code: 2,
      stderr: /unknown operator >> \(operators: == != /m,
    },
    { args: () => ['tail', '--where', 'payload.amount >>> 5'], code: 2, stderr: /unknown operator >>>/ },
    {
      args: () => ['tail', '--from', '1h', '--from-beginning'],
      code: 2,
      stderr: /--from-beginning and --from exclude each other/,
    },
    {
      args: () => ['tail', '--until', '50', '--from', '100', '-t', events],
      code: 2,
      stderr: /--until 50 is before --from 100/,
    },
    {
      args: () => ['tail', '--from', '1h', '--until', '2h', '-t', events],
      code: 2,
      stderr: /--until .* is before --from/,
    },
    { args: () => ['tail', '-f', '-e'], code: 2, stderr: /--follow and --until-end exclude each other/ },
    {
      args: () => ['tail', '--from', 'yesterday'],
      code: 2,
      stderr: /--from "yesterday" is not a valid start position/,
    },
    {
      args: () => ['tail', '-t', `${events}x`, '-e'],
      code: 6,
      stderr: new RegExp(`topic "${events}x" does not exist \\(did you mean ${events}`),
    },
    { args: () => ['tail', '-e', '-p', '9', '-t', events], code: 6, stderr: /has no partition 9/ },
    {
      args: () => ['replay', '--on-error', 'maybe'],
      code: 2,
      stderr: /Expected --on-error=maybe to be one of: fail, skip/,
    },
    {
      args: () => ['replay', '--workers', '0'],
      code: 2,
      stderr: /--workers: Expected an integer greater than or equal to 1 but received: 0/,
    },
    { args: () => ['replay', '--projection', 'ownrs', '--config', config], code: 3, stderr: /ownrs/ },
    { args: () => ['snapshots', '-t', `${events}-nope`], code: 6, stderr: /does not exist/ },
    { args: () => ['diff', 'ownrs', '--config', config], code: 3, stderr: /ownrs/ },
    { args: () => ['rebuild-projection', 'owners', '--config', config], code: 2, stderr: /confirm with --yes/ },
    { args: () => ['checkpoints'], code: 2, stderr: /^error: es checkpoints needs <group>: consumer group id/ },
    {
      args: () => ['checkpoints', group, '--topic', `${events}x`],
      code: 6,
      stderr: new RegExp(`topic "${events}x" does not exist \\(did you mean ${events}`),
    },
    {
      args: () => ['checkpoints', group, '--reset-to', 'banana'],
      code: 2,
      stderr: /--reset-to "banana" is not a valid start position/,
    },
    { args: () => ['checkpoints', uniqueTopic('no-such-group')], code: 6, stderr: /has no committed offsets/ },
    { args: () => ['send-command'], code: 2, stderr: /^error: es send-command needs <type>/ },
    {
      args: () => ['send-command', 'Open', '--timeout', '10', '--config', config],
      code: 2,
      stderr: /--timeout "10" is not a duration \(a duration is <number><unit>/,
    },
    {
      args: () => ['send-command', 'Open', '--data', '{', '--config', config],
      code: 5,
      stderr: /--data is not valid JSON at line 1, column 2/,
    },
    {
      args: () => ['send-command', 'Open', '--data', '{}', '--config', config],
      code: 5,
      stderr: /\$\.owner is required/,
    },
    { args: () => ['send-command', 'Opn', '--data', '{}', '--config', config], code: 3, stderr: /did you mean Open\?/ },
    {
      args: () => ['send-command', 'Open', '-i', '--config', config],
      code: 2,
      stderr: /--interactive needs a terminal/,
    },
    {
      args: () => ['send-command', 'Open', '-d', '{}', '--data-file', 'x.json'],
      code: 2,
      stderr: /--data and --data-file exclude each other/,
    },
    {
      args: () => ['local', 'start', '--port', '0'],
      code: 2,
      stderr: /--port: Expected an integer greater than or equal to 1/,
    },
    { args: () => ['local', 'status', '--port', 'abc'], code: 2, stderr: /--port: Expected an integer/ },
    {
      args: () => ['profiles', '--profile', 'prod', '--config', config],
      code: 3,
      stderr: /unknown profile "prod" \(--profile\)/,
    },
    { args: () => ['tail', '--config', join(dir, 'missing.yaml')], code: 3, stderr: /does not exist/ },
    {
      args: () => ['tail', '-e', '--config', typo],
      code: 3,
      stderr: /typo\.yaml:2: unknown key "service" at the top level \(did you mean "services"\?/,
    },
    {
      args: () => ['tail', '-e', '-t', events, '-X', 'sasl.mechansim=PLAIN'],
      code: 2,
      stderr: /-X sasl\.mechansim is not a client setting es knows \(did you mean sasl\.mechanism\?/,
    },
    {
      args: () => ['tail', '-e', '-t', events, '--brokers', 'localhost'],
      code: 2,
      stderr: /--brokers: brokers: "localhost" is not valid here/,
    },
  ]

  for (const [i, entry] of cases.entries()) {
    it(`${i + 1}: es ${entry.args().join(' ').replaceAll(dir, '…')}`, async () => {
      const args = entry.args()
      const run = await runEs(args, {
        cwd: dir,
        env: { ES_CONFIG: undefined, ES_BROKERS: brokers, ES_PROFILE: undefined },
      })
      const label = `es ${args.join(' ')}\n${run.stderr}`
      assert.notEqual(run.code, 70, label)
      assert.equal(run.code, entry.code, label)
      assert.doesNotMatch(run.stderr, /^\s+at /m, `a stack trace: ${label}`)
      assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${label}`)
      assert.match(run.stderr, entry.stderr, label)
    })
  }

  it('a --where path or --type in no record read is said on stderr, with the fields that were there', async () => {
    const where = await runEs(['tail', 'events', '-e', '--where', 'data.amount > 1', '--config', config], {
      cwd: dir,
      env: { ES_CONFIG: undefined, ES_BROKERS: undefined },
    })
    assert.equal(where.code, 0, where.stderr)
    assert.equal(where.stdout, '')
    assert.match(
      where.stderr,
      /^warning:? .*--where 'data\.amount > 1' matched nothing: no record read has data\.amount; top-level fields seen: .*\bpayload\b/m,
    )
    const nested = await runEs(['tail', 'events', '-e', '--where', 'payload.data.amount > 1', '--config', config], {
      cwd: dir,
      env: { ES_CONFIG: undefined, ES_BROKERS: undefined },
    })
    assert.match(nested.stderr, /no record read has payload\.data\.amount; fields seen under payload: amount, owner/)
    const untyped = uniqueTopic('bad-inputs-untyped')
    await createTopic(untyped, 1)
    await kcatProduce(brokers, untyped, [['k', '{"kind":"Opened","body":{}}']])
    const type = await runEs(['tail', '-t', untyped, '-e', '--type', 'Opened'], {
      cwd: dir,
      env: { ES_CONFIG: undefined },
    })
    assert.equal(type.code, 0, type.stderr)
    assert.match(type.stderr, /--type matched nothing: no record read has a type; fields seen under \$: body, kind/)
  })
})
