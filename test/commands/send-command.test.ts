/**
 * `es send-command` end to end: the real binary against the real broker. The sample bank service
 * (command handler + projector) runs as child processes on topics of its own; what `es` produced
 * is read back with kcat, the way any other client (and the service) sees it. Then zero-config use
 * and the seed shapes (calculator: seed 002; ride-hailing on ksqlDB: seed 003).
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type RunningBank, repoRoot, startBank, writeConfigCopy } from '../support/bank-service.js'
import { type EsRun, runEs, startEs } from '../support/cli.js'
import { createTopic, endOffsets, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { type KcatRecord, kcatConsume } from '../support/kcat.js'
import { librdkafkaProduce, type ProducedRecord } from '../support/librdkafka.js'
import { waitFor } from '../support/poll.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** No config or brokers from the environment the tests run in: each run names its own. */
const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

interface Sent {
  type: string
  id: string
  topic: string
  partition: number
  offset: number
  key: string
}

/** The `sent <type> <id> to <topic>/<partition>@<offset> key <key>` line es writes on stderr. */
function sentLine(run: EsRun): Sent {
  const match = /^sent (\S+) (\S+) to (\S+)\/(\d+)@(\d+) key (\S+)$/m.exec(run.stderr)
  assert.ok(match, `a "sent …" line on stderr:\n${run.stderr}`)
  const [, type, id, topic, partition, offset, key] = match
  return { type, id, topic, partition: Number(partition), offset: Number(offset), key }
}

function headersOf(record: KcatRecord): Record<string, string> {
  const pairs = record.headers ?? []
  const headers: Record<string, string> = {}
  for (let i = 0; i < pairs.length; i += 2) headers[pairs[i]] = pairs[i + 1]
  return headers
}

/** A JSON document read back; the assertions check its fields. */
type Doc = Record<string, unknown>

function payloadOf(record: KcatRecord): Doc {
  return JSON.parse(record.payload ?? 'null')
}

function recordAt(records: KcatRecord[], partition: number, offset: number): KcatRecord {
  const record = records.find((r) => r.partition === partition && r.offset === offset)
  assert.ok(record, `a record at ${partition}@${offset} among ${JSON.stringify(records)}`)
  return record
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** One line on stderr: the error, no stack trace. */
function assertOneLine(run: EsRun): void {
  assert.equal(run.stderr.trim().split('\n').length, 1, `one line on stderr:\n${run.stderr}`)
}

describe('es send-command with the sample bank service (real binary, real broker)', () => {
  const brokers = testBrokers()
  let bank: RunningBank

  const send = (args: string[], options: { input?: string } = {}) =>
    runEs(['send-command', ...args, '--config', bank.configFile], { env: cleanEnv, ...options })

  /** An account opened through es (version 1). */
  async function openAccount(): Promise<string> {
    const account = `acc-${randomBytes(4).toString('hex')}`
    const open = await send([
      'OpenAccount',
      '--key',
      account,
      '--data',
      '{"owner":"Ann"}',
      '--wait',
      '--timeout',
      '30s',
    ])
    assert.equal(open.code, 0, open.stderr)
    assert.match(open.stdout, new RegExp(`${account}\\s+AccountOpened\\s+v1`))
    return account
  }

  before(async () => {
    bank = await startBank('send')
  })

  after(async () => {
    const { handler, projector } = bank
    const codes = await bank.stop()
    assert.deepEqual(codes, { handler: 0, projector: 0 }, `${handler.stderr}\n${projector.stderr}`)
  })

  it('DepositFunds --expected-version --wait prints the FundsDeposited event and exits 0; kcat reads the command', async () => {
    const account = await openAccount()
    const run = await send([
      'DepositFunds',
      '--key',
      account,
      '--data',
      '{"amount":10}',
      '--expected-version',
      '1',
      '--header',
      'trace-id=t-42',
      '--header',
      'origin=es test',
      '--wait',
      '--timeout',
      '30s',
    ])
    assert.equal(run.code, 0, run.stderr)
    const sent = sentLine(run)
    assert.match(sent.id, UUID)
    assert.deepEqual(
      [sent.type, sent.topic, sent.key],
      ['DepositFunds', bank.topics.commands, account],
      'the sent line names type, topic and key',
    )
    assert.match(run.stderr, /^accepted: 1 event\(s\)$/m)

    // The event es printed is the one the handler appended, caused by this command.
    const caused = (await kcatConsume(brokers, bank.topics.events)).filter((r) => payloadOf(r).causationId === sent.id)
    assert.equal(caused.length, 1, JSON.stringify(caused))
    const event = payloadOf(caused[0])
    assert.deepEqual([event.type, event.version, event.data], ['FundsDeposited', 2, { amount: 10 }])
    const lines = run.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 1, run.stdout)
    assert.match(
      lines[0],
      new RegExp(
        `${escapeRegExp(bank.topics.events)}/${caused[0].partition}@${caused[0].offset}\\s+${account}\\s+FundsDeposited\\s+v2\\s+\\{"amount":10\\}$`,
      ),
    )

    // The command as produced: key, headers and value, read by kcat.
    const record = recordAt(await kcatConsume(brokers, bank.topics.commands), sent.partition, sent.offset)
    assert.equal(record.key, account)
    assert.deepEqual(headersOf(record), { 'trace-id': 't-42', origin: 'es test' })
    const value = payloadOf(record)
    assert.deepEqual(Object.keys(value).sort(), ['data', 'expectedVersion', 'id', 'timestamp', 'type'])
    assert.deepEqual(
      { id: value.id, type: value.type, expectedVersion: value.expectedVersion, data: value.data },
      { id: sent.id, type: 'DepositFunds', expectedVersion: 1, data: { amount: 10 } },
    )
    assert.equal(new Date(String(value.timestamp)).toISOString(), value.timestamp, 'an ISO-8601 timestamp')
  })

  it('a stale --expected-version prints the rejection and exits 1', async () => {
    const account = await openAccount()
    const first = await send(['DepositFunds', '--key', account, '--data', '{"amount":10}', '--expected-version', '1'])
    assert.equal(first.code, 0, first.stderr)
    const stale = await send([
      'DepositFunds',
      '--key',
      account,
      '--data',
      '{"amount":10}',
      '--expected-version',
      '1',
      '--wait',
      '--timeout',
      '30s',
    ])
    assert.equal(stale.code, 1, stale.stderr)
    assert.match(stale.stderr, /^rejected: CommandRejected$/m)
    const lines = stale.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 1, stale.stdout)
    assert.match(lines[0], new RegExp(`${account}\\s+CommandRejected\\s+v2\\s`))
    assert.match(lines[0], new RegExp(`"reason":"expected version 1 but account ${account} is at version 2"`))
  })

  it('--json returns the result: command id, record, partition, offset, outcome and the events', async () => {
    const account = await openAccount()
    const args = ['DepositFunds', '--key', account, '--data', '{"amount":10}', '--expected-version', '1']
    const run = await send([...args, '--wait', '--timeout', '30s', '--json'])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout)
    assert.deepEqual(Object.keys(result).sort(), [
      'commandId',
      'dryRun',
      'events',
      'offset',
      'outcome',
      'partition',
      'record',
      'service',
      'type',
    ])
    assert.match(result.commandId, UUID)
    assert.deepEqual(
      [result.type, result.service, result.dryRun, result.outcome],
      ['DepositFunds', 'bank', false, 'accepted'],
    )
    const command = recordAt(await kcatConsume(brokers, bank.topics.commands), result.partition, result.offset)
    assert.deepEqual(result.record, { topic: bank.topics.commands, key: account, headers: {}, value: command.payload })
    assert.equal(payloadOf(command).id, result.commandId)

    const [event] = (await kcatConsume(brokers, bank.topics.events)).filter(
      (r) => payloadOf(r).causationId === result.commandId,
    )
    assert.ok(event, 'the handler appended the event')
    const appended = payloadOf(event)
    assert.deepEqual(result.events, [
      {
        topic: bank.topics.events,
        partition: event.partition,
        offset: event.offset,
        type: 'FundsDeposited',
        id: appended.id,
        aggregateId: account,
        causationId: result.commandId,
        version: 2,
        timestamp: appended.timestamp,
        payload: { amount: 10 },
      },
    ])

    // The same expected version again is stale now: outcome "rejected", exit 1.
    const stale = await send([...args, '--wait', '--timeout', '30s', '--json'])
    assert.equal(stale.code, 1, stale.stderr)
    const rejected = JSON.parse(stale.stdout)
    assert.equal(rejected.outcome, 'rejected')
    assert.deepEqual(
      rejected.events.map((e: Doc) => [e.type, e.causationId, (e.payload as Doc).actualVersion]),
      [['CommandRejected', rejected.commandId, 2]],
    )
  })

  it('refuses invalid input before producing: bad JSON, schema violations, unknown type, no key', async () => {
    const account = `acc-${randomBytes(4).toString('hex')}`
    const dir = await mkdtemp(join(tmpdir(), 'es-send-'))
    const badFile = join(dir, 'bad.json')
    await writeFile(badFile, '{\n  "amount": 10\n  "note": "x"\n}\n')
    const deposit = ['DepositFunds', '--key', account]
    const cases: Array<{ args: string[]; input?: string; code: number; error: RegExp }> = [
      {
        args: [...deposit, '--data', '{"amount":\n  10,}'],
        code: 5,
        error: /--data is not valid JSON at line 2, column 6/,
      },
      { args: [...deposit, '--data-file', badFile], code: 5, error: /bad\.json is not valid JSON at line 3, column 3/ },
      {
        args: [...deposit, '--data-file', '-'],
        input: 'amount=10',
        code: 5,
        error: /stdin is not valid JSON at line 1, column 1/,
      },
      {
        args: [...deposit, '--data', '{"amount":-5}'],
        code: 5,
        error: /DepositFunds payload is invalid: \$\.amount must be > 0 \(exclusiveMinimum\)/,
      },
      { args: [...deposit, '--data', '{"amount":"ten"}'], code: 5, error: /\$\.amount must be number \(type\)/ },
      { args: [...deposit, '--data', '{}'], code: 5, error: /\$\.amount is required/ },
      {
        args: ['OpenAccount', '--key', account, '--data', '{"owner":""}'],
        code: 5,
        error: /\$\.owner must NOT have fewer than 1 characters \(minLength\)/,
      },
      {
        args: ['Deposit', '--key', account, '--data', '{"amount":10}'],
        code: 3,
        error: /unknown command type "Deposit".*known types: OpenAccount, DepositFunds, WithdrawFunds, CloseAccount/,
      },
      { args: ['DepositFunds', '--data', '{"amount":10}'], code: 5, error: /DepositFunds has no key/ },
    ]
    try {
      const before = await endOffsets(bank.topics.commands)
      for (const { args, input, code, error } of cases) {
        const run = await send(args, { input })
        const what = `es send-command ${args.join(' ')}`
        assert.equal(run.code, code, `${what}\n${run.stderr}`)
        assert.match(run.stderr, error, what)
        assertOneLine(run)
        assert.equal(run.stdout, '', what)
        assert.deepEqual(await endOffsets(bank.topics.commands), before, `${what} produced nothing`)
      }

      // --json: the error as a document on stdout.
      const json = await send([...deposit, '--data', '{"amount":0}', '--json'])
      assert.equal(json.code, 5)
      const { error } = JSON.parse(json.stdout)
      assert.deepEqual(
        [error.code, error.exitCode, error.where.path, error.where.rule],
        ['SCHEMA_VIOLATION', 5, '$.amount', 'exclusiveMinimum'],
      )
      assert.deepEqual(await endOffsets(bank.topics.commands), before)

      // The probe sees a command that is produced: the same call, valid.
      const valid = await send([...deposit, '--data', '{"amount":10}'])
      assert.equal(valid.code, 0, valid.stderr)
      const { partition } = sentLine(valid)
      assert.deepEqual(await endOffsets(bank.topics.commands), { ...before, [partition]: before[partition] + 1 })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('takes the key from the payload where the command config says (key: $.accountId)', async () => {
    const account = `acc-${randomBytes(4).toString('hex')}`
    const run = await send([
      'OpenAccount',
      '--data',
      JSON.stringify({ accountId: account, owner: 'Kim' }),
      '--wait',
      '--timeout',
      '30s',
    ])
    assert.equal(run.code, 0, run.stderr)
    const sent = sentLine(run)
    assert.equal(sent.key, account)
    assert.equal(recordAt(await kcatConsume(brokers, bank.topics.commands), sent.partition, sent.offset).key, account)
    assert.match(run.stdout, new RegExp(`${account}\\s+AccountOpened\\s+v1`))
  })

  it('a retry with the same --id is applied once by the service', async () => {
    const account = await openAccount()
    const id = randomUUID()
    const deposit = ['DepositFunds', '--key', account, '--data', '{"amount":10}', '--id', id]
    const first = await send([...deposit, '--wait', '--timeout', '30s'])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /FundsDeposited\s+v2/)
    const retry = await send(deposit)
    assert.equal(retry.code, 0, retry.stderr)
    const [sentFirst, sentRetry] = [sentLine(first), sentLine(retry)]
    assert.deepEqual([sentFirst.id, sentRetry.id], [id, id])
    assert.notEqual(sentRetry.offset, sentFirst.offset, 'the retry is a record of its own')

    // Commands of one account are handled in order: once the next one is handled, so is the retry.
    const next = await send([
      'DepositFunds',
      '--key',
      account,
      '--data',
      '{"amount":1}',
      '--wait',
      '--timeout',
      '30s',
      '--json',
    ])
    assert.equal(next.code, 0, next.stderr)
    assert.deepEqual(
      JSON.parse(next.stdout).events.map((e: Doc) => [e.type, e.version]),
      [['FundsDeposited', 3]],
      'the retry did not move the account to version 3',
    )
    const commands = (await kcatConsume(brokers, bank.topics.commands)).filter((r) => payloadOf(r).id === id)
    assert.equal(commands.length, 2, 'both sends reached the commands topic')
    const events = (await kcatConsume(brokers, bank.topics.events)).filter((r) => payloadOf(r).causationId === id)
    assert.deepEqual(
      events.map((r) => payloadOf(r).type),
      ['FundsDeposited'],
    )
  })

  it('--dry-run prints the record (key, headers, value) and produces nothing', async () => {
    const before = await endOffsets(bank.topics.commands)
    const args = [
      'DepositFunds',
      '--key',
      'acc-dry',
      '--data',
      '{"amount":3}',
      '--header',
      'x=y',
      '--expected-version',
      '7',
      '--dry-run',
    ]
    const run = await send(args)
    assert.equal(run.code, 0, run.stderr)
    const record = JSON.parse(run.stdout)
    assert.deepEqual(Object.keys(record).sort(), ['headers', 'key', 'topic', 'value'])
    assert.deepEqual([record.topic, record.key, record.headers], [bank.topics.commands, 'acc-dry', { x: 'y' }])
    const value = JSON.parse(record.value)
    assert.match(value.id, UUID)
    assert.deepEqual(
      { type: value.type, expectedVersion: value.expectedVersion, data: value.data },
      { type: 'DepositFunds', expectedVersion: 7, data: { amount: 3 } },
    )
    assert.match(run.stderr, new RegExp(`dry run: nothing was produced \\(command id ${value.id}\\)`))

    const json = await send([...args, '--json'])
    assert.equal(json.code, 0, json.stderr)
    const result = JSON.parse(json.stdout)
    assert.equal(result.dryRun, true)
    assert.deepEqual(
      [result.partition, result.offset, result.outcome],
      [undefined, undefined, undefined],
      'nothing produced, no outcome',
    )
    assert.equal(result.record.key, 'acc-dry')
    assert.deepEqual(await endOffsets(bank.topics.commands), before)
  })

  it('--wait --timeout 2s when nobody handles the commands topic: exit 4 with a one-line message', async () => {
    const topic = uniqueTopic('send-unhandled')
    await createTopic(topic)
    const run = await send([
      'DepositFunds',
      '--key',
      'acc-nobody',
      '--data',
      '{"amount":1}',
      '--topic',
      topic,
      '--wait',
      '--timeout',
      '2s',
    ])
    assert.equal(run.code, 4, run.stderr)
    assert.equal(run.stdout, '')
    assertOneLine(run)
    const match = new RegExp(
      `no event caused by command (\\S+) arrived on ${escapeRegExp(bank.topics.events)} within 2000 ms \\(the command was produced to ${escapeRegExp(topic)}/0@0\\)`,
    ).exec(run.stderr)
    assert.ok(match, run.stderr)
    const [record] = await kcatConsume(brokers, topic)
    assert.equal(payloadOf(record).id, match[1], 'the command was produced before waiting')
  })
})

describe('es send-command without a config (zero-config)', () => {
  it('--topic and --brokers send {"id","type","timestamp","data"} keyed by --key', async () => {
    const brokers = testBrokers()
    const cwd = await mkdtemp(join(tmpdir(), 'es-zero-config-'))
    const topic = uniqueTopic('send-zero-config')
    await createTopic(topic)
    try {
      const run = await runEs(
        [
          'send-command',
          'Ping',
          '--topic',
          topic,
          '--brokers',
          brokers,
          '--key',
          'k-1',
          '--data',
          '{"n":1,"tags":["a"]}',
          '--header',
          'h=v',
        ],
        { cwd, env: cleanEnv },
      )
      assert.equal(run.code, 0, run.stderr)
      const sent = sentLine(run)
      const records = await kcatConsume(brokers, topic)
      assert.equal(records.length, 1)
      const [record] = records
      assert.deepEqual([record.partition, record.offset], [sent.partition, sent.offset])
      assert.equal(record.key, 'k-1')
      assert.deepEqual(headersOf(record), { h: 'v' })
      const value = payloadOf(record)
      assert.deepEqual(Object.keys(value).sort(), ['data', 'id', 'timestamp', 'type'])
      assert.match(String(value.id), UUID)
      assert.deepEqual(
        { id: value.id, type: value.type, data: value.data },
        { id: sent.id, type: 'Ping', data: { n: 1, tags: ['a'] } },
      )
      assert.equal(new Date(String(value.timestamp)).toISOString(), value.timestamp)

      // A topic that does not exist: exit 6 naming the near match (checked before producing:
      // kafkajs alone retries an unknown topic's metadata for ~10 s), and nothing is created.
      const missing = await runEs(
        ['send-command', 'Ping', '--topic', `${topic}x`, '--brokers', brokers, '--key', 'k-1', '--data', '{}'],
        { cwd, env: cleanEnv },
      )
      assert.equal(missing.code, 6, missing.stderr)
      assert.match(
        missing.stderr.trim(),
        new RegExp(`^error: topic "${topic}x" does not exist \\(did you mean ${topic}\\?\\)$`),
      )
      const admin = testKafka().admin()
      await admin.connect()
      try {
        assert.ok(!(await admin.listTopics()).includes(`${topic}x`), 'the topic was not created')
      } finally {
        await admin.disconnect()
      }
    } finally {
      await rm(cwd, { recursive: true, force: true })
    }
  })

  it('opens one connection and asks for the metadata of the command topic only (the broker holds many)', async () => {
    const topic = uniqueTopic('send-one-connection')
    await createTopic(topic)
    await createTopic(uniqueTopic('send-other-topic'))
    const run = await runEs(
      ['send-command', 'Ping', '--topic', topic, '--brokers', testBrokers(), '--key', 'k', '--data', '{}', '--verbose'],
      { env: cleanEnv },
    )
    assert.equal(run.code, 0, run.stderr)
    assert.equal(sentLine(run).topic, topic)
    // kafkajs's debug lines (--verbose): each connection opened, each Metadata answer's topics.
    const lines = run.stderr.split('\n')
    assert.equal(lines.filter((line) => /Connection: Connecting /.test(line)).length, 1, run.stderr)
    const answered = lines
      .filter((line) => /Connection: Response Metadata\(/.test(line))
      .map((line) =>
        JSON.parse(line.slice(line.indexOf('{'))).data.topicMetadata.map((t: { topic: string }) => t.topic),
      )
    assert.deepEqual(answered, [[topic]], run.stderr)
  })
})

describe('es send-command in the seed systems’ shapes, read back as those systems read them', () => {
  const brokers = testBrokers()

  it('calculator (seed 002): {"action","id","data"} keyed by the command id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-calculator-'))
    const topics = { commands: uniqueTopic('calc-commands'), events: uniqueTopic('calc-events') }
    await Promise.all([createTopic(topics.commands), createTopic(topics.events)])
    try {
      const config = await writeConfigCopy(join(repoRoot, 'examples/calculator/es.config.yaml'), dir, (c) => {
        c.brokers = brokers
        c.services.calculator.streams = topics
      })
      const send = (args: string[]) => runEs(['send-command', ...args, '--config', config], { env: cleanEnv })
      const valueId = randomUUID()
      const create = await send(['CreateValue', '--data', JSON.stringify({ value_id: valueId, value: 2.5 })])
      assert.equal(create.code, 0, create.stderr)
      const update = await send([
        'UpdateValue',
        '--data',
        JSON.stringify({ value_id: valueId, operation: 'MULTIPLY', value: 3 }),
      ])
      assert.equal(update.code, 0, update.stderr)
      const wrong = await send([
        'UpdateValue',
        '--data',
        JSON.stringify({ value_id: valueId, operation: 'SUB', value: 1 }),
      ])
      assert.equal(wrong.code, 5)
      assert.match(wrong.stderr, /\$\.operation must be one of "ADD", "MULTIPLY" \(enum\)/)
      // JSON Schema formats are honoured: value_id is `format: uuid`.
      const notUuid = await send(['CreateValue', '--data', JSON.stringify({ value_id: 'abc', value: 1 })])
      assert.equal(notUuid.code, 5, notUuid.stderr)
      assert.match(
        notUuid.stderr,
        /^error: CreateValue payload is invalid: \$\.value_id must match format "uuid" \(format\)/,
      )
      // One duration grammar: --timeout takes what --from takes.
      const dry = await send([
        'CreateValue',
        '--data',
        JSON.stringify({ value_id: valueId, value: 1 }),
        '--dry-run',
        '--wait',
        '--timeout',
        '1h30m',
      ])
      assert.equal(dry.code, 0, dry.stderr)

      // The commander's messages: the type in "action", the payload in "data", keyed by the id.
      const records = await kcatConsume(brokers, topics.commands)
      assert.equal(records.length, 2)
      const byId = new Map(records.map((r) => [payloadOf(r).id, r]))
      const [created, updated] = [sentLine(create), sentLine(update)]
      const expected: Array<[Sent, Record<string, unknown>]> = [
        [created, { action: 'CreateValue', id: created.id, data: { value_id: valueId, value: 2.5 } }],
        [
          updated,
          { action: 'UpdateValue', id: updated.id, data: { value_id: valueId, operation: 'MULTIPLY', value: 3 } },
        ],
      ]
      for (const [sent, value] of expected) {
        const record = byId.get(sent.id)
        assert.ok(record, `the command ${sent.id}`)
        assert.equal(record.key, sent.id)
        assert.deepEqual(payloadOf(record), value)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('ride-hailing on ksqlDB (seed 003): every field the handler reads, from the envelope; no key is exit 5', async () => {
    const config = join(repoRoot, 'examples/ride-hailing/es.config.yaml')
    const topic = uniqueTopic('orders')
    await createTopic(topic, 3)
    const send = (args: string[]) =>
      runEs(['send-command', ...args, '--config', config, '--brokers', brokers, '--topic', topic], { env: cleanEnv })
    const [orderId, driverId, rider] = [randomUUID(), randomUUID(), randomUUID()]
    const route = [
      { address: 'a', lat: 50.5, lon: 30.4 },
      { address: 'b', lat: 50.4, lon: 30.5 },
    ]

    // PlaceOrderCommand without --expected-version: 0, as the controller builds it.
    const place = await send([
      'PlaceOrderCommand',
      '--key',
      orderId,
      '--data',
      JSON.stringify({ riderId: rider, price: 9.5, route }),
    ])
    assert.equal(place.code, 0, place.stderr)
    // The order id from the payload (commands.<type>.key), the expected version from the flag.
    const accept = await send([
      'AcceptOrderCommand',
      '--expected-version',
      '1',
      '--data',
      JSON.stringify({ aggregateId: orderId, driverId }),
    ])
    assert.equal(accept.code, 0, accept.stderr)

    const before = await endOffsets(topic)
    // No key anywhere: the order would be lost to the service (it folds by key). Exit 5, nothing produced.
    const noKey = await send(['AcceptOrderCommand', '--expected-version', '1', '--data', JSON.stringify({ driverId })])
    assert.equal(noKey.code, 5, noKey.stderr)
    assert.match(
      noKey.stderr,
      /AcceptOrderCommand has no key: \$\.aggregateId is not in the payload and no --key was given; nothing was produced/,
    )
    assertOneLine(noKey)
    const emptyKey = await send(['CancelOrderCommand', '--expected-version', '2', '--data', '{"aggregateId":""}'])
    assert.equal(emptyKey.code, 5, emptyKey.stderr)
    // The handler compares the expected version: without one it is refused too.
    const noVersion = await send(['CompleteOrderCommand', '--key', orderId, '--data', '{}'])
    assert.equal(noVersion.code, 5, noVersion.stderr)
    assert.match(noVersion.stderr, /CompleteOrderCommand needs --expected-version/)
    assert.deepEqual(await endOffsets(topic), before, 'nothing produced')

    // What OrderCommandSender writes, read back by kcat: the key, aggregate_id, and in json_data
    // aggregateId, expectedVersion and commandType (EventJsonSerde / Jackson).
    const records = await kcatConsume(brokers, topic)
    assert.equal(records.length, 2)
    const placed = recordAt(records, sentLine(place).partition, sentLine(place).offset)
    assert.equal(placed.key, orderId)
    const placedValue = payloadOf(placed)
    assert.deepEqual(
      { ...placedValue, json_data: JSON.parse(String(placedValue.json_data)) },
      {
        aggregate_id: orderId,
        is_command: true,
        type: 'PlaceOrderCommand',
        json_data: {
          aggregateId: orderId,
          expectedVersion: 0,
          riderId: rider,
          price: 9.5,
          route,
          commandType: 'PlaceOrderCommand',
        },
      },
    )
    const accepted = recordAt(records, sentLine(accept).partition, sentLine(accept).offset)
    assert.equal(accepted.key, orderId)
    assert.deepEqual(JSON.parse(String(payloadOf(accepted).json_data)), {
      aggregateId: orderId,
      driverId,
      expectedVersion: 1,
      commandType: 'AcceptOrderCommand',
    })
  })

  it("ride-hailing --wait (waitFor: aggregate): the order's next event is the outcome, an ErrorEvent a rejection", async () => {
    const topic = uniqueTopic('orders-wait')
    await createTopic(topic, 1)
    const dir = await mkdtemp(join(tmpdir(), 'es-orders-'))
    const config = await writeConfigCopy(join(repoRoot, 'examples/ride-hailing/es.config.yaml'), dir, (c) => {
      c.brokers = brokers
      c.services.orders.streams = { commands: topic, events: topic }
    })
    const [orderId, otherOrder] = [randomUUID(), randomUUID()]
    const jackson = (order: string, type: string, data: object) => ({
      topic,
      key: { text: order },
      value: {
        text: JSON.stringify({
          aggregate_id: order,
          is_command: false,
          type,
          json_data: JSON.stringify({ aggregateId: order, ...data, eventType: type }),
        }),
      },
    })
    // The handler's part, played by librdkafka once the command is on the topic.
    const answer = async (events: ProducedRecord[]) => {
      const start = await endOffsets(topic)
      const waiting = startEs(
        [
          'send-command',
          'CancelOrderCommand',
          '--key',
          orderId,
          '--expected-version',
          '1',
          '--data',
          '{}',
          '--wait',
          '--timeout',
          '20s',
          '--json',
          '--config',
          config,
        ],
        { env: cleanEnv },
      )
      await waitFor(
        'the command on the topic',
        () => endOffsets(topic),
        (ends) => ends[0] > start[0],
      )
      await librdkafkaProduce(brokers, events)
      const code = await waiting.exited
      return { code, result: JSON.parse(waiting.stdout()), stderr: waiting.stderr() }
    }

    const rejected = await answer([
      // Another order's event, and a command: neither is the outcome.
      jackson(otherOrder, 'OrderCancelledEvent', { version: 2, createdDate: '2021-04-23T15:26:40.123456Z' }),
      jackson(orderId, 'ErrorEvent', {
        version: 0,
        createdDate: '2021-04-23T15:26:41.000001Z',
        commandType: 'CancelOrderCommand',
        expectedVersion: 1,
        errorMessage: "Actual version 2 doesn't match expected version 1",
      }),
    ])
    assert.equal(rejected.code, 1, rejected.stderr)
    assert.equal(rejected.result.outcome, 'rejected')
    assert.deepEqual(
      rejected.result.events.map((e: Doc) => [e.type, e.aggregateId]),
      [['ErrorEvent', orderId]],
    )

    const accepted = await answer([
      jackson(orderId, 'OrderCancelledEvent', { version: 2, createdDate: '2021-04-23T15:27:00.5Z' }),
    ])
    assert.equal(accepted.code, 0, accepted.stderr)
    assert.equal(accepted.result.outcome, 'accepted')
    assert.deepEqual(
      accepted.result.events.map((e: Doc) => [e.type, e.version]),
      [['OrderCancelledEvent', 2]],
    )
  })
})
