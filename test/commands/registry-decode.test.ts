/**
 * One decode path: every command that decodes loads a schema it does not hold yet (Confluent
 * registry) the same way. Confluent-framed Avro written to the real broker with kafkajs; the
 * schema only in the test registry; `es tail`, `es snapshots`, `es replay` and `es diff` against it.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import avro from 'avsc'
import { ndjsonLines, runEs } from '../support/cli.js'
import { type FakeRegistry, startFakeRegistry } from '../support/fake-registry.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { tempDir } from '../support/temp-dir.js'

const brokers = testBrokers()
const schema = {
  type: 'record',
  name: 'Balance',
  namespace: 'bank',
  fields: [
    { name: 'type', type: 'string' },
    { name: 'balance', type: 'int' },
  ],
}

/** `0x00` + schema id + the avsc datum of `value`. */
function confluentFrame(id: number, value: unknown): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(id, 1)
  return Buffer.concat([header, avro.Type.forSchema(schema as avro.Schema).toBuffer(value)])
}

/** Ad-hoc codec flags: Confluent Avro on `topic`, schemas from the registry at `url`. */
const adHoc = (topic: string, url: string) => [
  '--topic',
  topic,
  '--brokers',
  brokers,
  '--value-codec',
  'avro-confluent',
  '--registry',
  url,
]

/** A new topic holding `messages`, written with kafkajs. */
async function produce(
  topic: string,
  messages: Array<{ key: string; value: Buffer; headers?: Record<string, string> }>,
) {
  await createTopic(topic)
  const producer = testKafka().producer()
  await producer.connect()
  await producer.send({ topic, messages })
  await producer.disconnect()
}

describe('Confluent Avro whose schema only the registry has', () => {
  const topic = uniqueTopic('es-registry-decode')
  let registry: FakeRegistry
  let dir: string
  let config: string

  before(async () => {
    registry = await startFakeRegistry()
    registry.schemas.set(7, { schema: JSON.stringify(schema) })
    await produce(topic, [
      { key: 'acc-1', value: confluentFrame(7, { type: 'BalanceSet', balance: 10 }) },
      { key: 'acc-2', value: confluentFrame(7, { type: 'BalanceSet', balance: 20 }) },
      { key: 'acc-1', value: confluentFrame(7, { type: 'BalanceSet', balance: 15 }) },
    ])
    dir = await tempDir('es-registry-decode-')
    config = join(dir, 'es.config.yaml')
    await writeFile(
      config,
      [
        `brokers: ${brokers}`,
        `schemaRegistry: ${registry.url}`,
        'services:',
        '  bank:',
        `    streams: { events: ${topic}, snapshots: ${topic} }`,
        '    codec: { key: string, value: avro-confluent }',
        '    envelope: { type: $.type, payload: $ }',
        '',
      ].join('\n'),
    )
  })
  after(() => registry.close())

  it('es tail decodes every record, asking the registry once', async () => {
    const run = await runEs(['tail', '--config', config, '-e', '-o', 'ndjson'])
    assert.equal(run.code, 0, run.stderr)
    const lines = ndjsonLines(run.stdout)
    assert.deepEqual(
      lines.map((line) => [line.key, line.value, line.error]),
      [
        ['acc-1', { type: 'BalanceSet', balance: 10 }, undefined],
        ['acc-2', { type: 'BalanceSet', balance: 20 }, undefined],
        ['acc-1', { type: 'BalanceSet', balance: 15 }, undefined],
      ],
    )
    assert.equal(registry.requests.filter((path) => path === '/schemas/ids/7').length, 1)
  })

  it('es snapshots decodes the latest value per key', async () => {
    const run = await runEs(['snapshots', '--config', config, '--json'])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as { entries: Array<{ key: string; value: unknown }>; undecodable: number }
    assert.equal(result.undecodable, 0)
    assert.deepEqual(
      result.entries.map((entry) => [entry.key, entry.value]),
      [
        ['acc-1', { type: 'BalanceSet', balance: 15 }],
        ['acc-2', { type: 'BalanceSet', balance: 20 }],
      ],
    )
  })

  it('es replay folds them', async () => {
    const run = await runEs(['replay', '--config', config, '--from-beginning', '--reducer', 'latest', '--json'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal((JSON.parse(run.stdout) as { events: number }).events, 3)
  })

  it('ad hoc, without a config: --value-codec avro-confluent --registry <url>', async () => {
    const run = await runEs(['tail', ...adHoc(topic, registry.url), '-e', '-o', 'ndjson'])
    assert.equal(run.code, 0, run.stderr)
    const lines = ndjsonLines(run.stdout)
    assert.deepEqual(lines[0].value, { type: 'BalanceSet', balance: 10 })
    assert.deepEqual(lines[0].schema, { name: 'bank.Balance', id: 7 })
  })
})

describe('registry authentication and write-side errors', () => {
  const topic = uniqueTopic('es-registry-auth')
  const secret = 's3cr3t-Pa55'
  let basic: FakeRegistry
  let bearer: FakeRegistry
  let dir: string

  before(async () => {
    basic = await startFakeRegistry({ credentials: { username: 'ops', password: secret } })
    bearer = await startFakeRegistry({ token: secret })
    for (const registry of [basic, bearer]) registry.schemas.set(7, { schema: JSON.stringify(schema) })
    await produce(topic, [{ key: 'acc-1', value: confluentFrame(7, { type: 'BalanceSet', balance: 1 }) }])
    dir = await tempDir('es-registry-auth-')
  })
  after(async () => {
    await basic.close()
    await bearer.close()
  })

  const withUser = (registry: FakeRegistry, password: string) =>
    registry.url.replace('http://', `http://ops:${password}@`)
  const tailWith = (url: string, extra: string[] = []) =>
    runEs(['tail', ...adHoc(topic, url), '-e', '-o', 'ndjson', ...extra])

  it('credentials in the registry URL become basic authentication', async () => {
    const run = await tailWith(withUser(basic, secret), ['--verbose'])
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(ndjsonLines(run.stdout)[0].value, { type: 'BalanceSet', balance: 1 })
    assert.ok(!run.stderr.includes(secret), 'no secret in --verbose lines')
  })

  it('a wrong password exits 4 naming the registry, never the secret (also under --json)', async () => {
    const wrong = `${secret}-wrong`
    for (const run of [
      await runEs([
        'replay',
        ...adHoc(topic, withUser(basic, wrong)),
        '--reducer',
        'count',
        '--from-beginning',
        '--json',
        '--verbose',
      ]),
    ]) {
      assert.equal(run.code, 4, run.stderr)
      assert.match(
        run.stderr,
        /schema registry http:\/\/127\.0\.0\.1:\d+ refused the credentials \(HTTP 401\) for schema id 7: error 401 Unauthorized/,
      )
      for (const text of [run.stdout, run.stderr]) {
        assert.ok(!text.includes(wrong), 'no password in the output')
        assert.ok(!text.includes(Buffer.from(`ops:${wrong}`).toString('base64')), 'no credentials in base64')
      }
    }
  })

  it('a bearer token from the config authenticates', async () => {
    const config = join(dir, 'bearer.yaml')
    await writeFile(
      config,
      [
        `brokers: ${brokers}`,
        'schemaRegistry:',
        `  url: ${bearer.url}`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
        '  token: ${REG_TOKEN}',
        'services:',
        '  bank:',
        `    streams: { events: ${topic} }`,
        '    codec: { key: string, value: avro-confluent }',
        '',
      ].join('\n'),
    )
    const run = await runEs(['tail', '--config', config, '-e', '-o', 'ndjson'], { env: { REG_TOKEN: secret } })
    assert.equal(run.code, 0, run.stderr)
    assert.equal(ndjsonLines(run.stdout).length, 1)
    const refused = await runEs(['tail', '--config', config, '-e', '-o', 'ndjson'], { env: { REG_TOKEN: 'nope' } })
    assert.match(refused.stdout + refused.stderr, /refused the credentials/)
  })

  it('send-command registers under the topic subject once, and autoRegister: false exits 3 naming the subject', async () => {
    const schemaFile = join(dir, 'Cmd.avsc')
    await writeFile(
      schemaFile,
      JSON.stringify({
        type: 'record',
        name: 'Deposit',
        namespace: 'bank',
        fields: [
          { name: 'type', type: 'string' },
          { name: 'id', type: 'string' },
          { name: 'amount', type: 'int' },
        ],
      }),
    )
    const commands = uniqueTopic('es-registry-cmd')
    await createTopic(commands)
    const write = async (autoRegister: boolean, data: string) => {
      const config = join(dir, `send-${autoRegister}.yaml`)
      await writeFile(
        config,
        [
          `brokers: ${brokers}`,
          `schemaRegistry: ${withUser(basic, secret)}`,
          'services:',
          '  bank:',
          `    streams: { commands: ${commands} }`,
          `    codec: { key: string, value: { type: avro-confluent, schema: ${schemaFile}, autoRegister: ${autoRegister} } }`,
          '    envelope: { type: $.type, id: $.id, payload: $, timestamp: none, version: none, causationId: none }',
          '',
        ].join('\n'),
      )
      return runEs(['send-command', 'Deposit', '--config', config, '--key', 'acc-1', '--data', data, '--json'])
    }
    const refused = await write(false, '{"amount":1}')
    assert.equal(refused.code, 3, refused.stderr)
    assert.match(refused.stderr, new RegExp(`subject ${commands}-value`))
    const sent = await write(true, '{"amount":1}')
    assert.equal(sent.code, 0, sent.stderr)
    assert.deepEqual(basic.subjects.get(`${commands}-value`)?.length, 1)
    const again = await write(true, '{"amount":2}')
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(basic.subjects.get(`${commands}-value`)?.length, 1)
    const invalid = await write(true, '{"amount":"x"}')
    assert.equal(invalid.code, 5, invalid.stderr)
    assert.match(invalid.stderr, /\$\.amount: expected int/)
  })
})

describe('decode failures at a glance', () => {
  const topic = uniqueTopic('es-decode-failures')
  let registry: FakeRegistry

  before(async () => {
    registry = await startFakeRegistry()
    registry.schemas.set(7, { schema: JSON.stringify(schema) })
    const frame = (id: number) => confluentFrame(id, { type: 'BalanceSet', balance: 1 })
    await produce(topic, [
      { key: 'a', value: frame(7) },
      { key: 'b', value: frame(12), headers: { ce_type: 'BalanceSet' } },
      { key: 'c', value: frame(12), headers: { ce_type: 'BalanceSet' } },
      { key: 'd', value: Buffer.from('not framed') },
      { key: 'e', value: frame(12), headers: { ce_type: 'BalanceSet' } },
    ])
  })
  after(() => registry.close())

  const flags = () => [...adHoc(topic, registry.url)]

  it('es tail -e ends with the undecodable records by schema id, with the first offset of each group', async () => {
    const run = await runEs(['tail', ...flags(), '-e', '-o', 'ndjson'])
    assert.equal(run.code, 0, run.stderr)
    assert.match(
      run.stderr,
      new RegExp(`3 records of schema id 12 fail \\(first at ${topic}/0@1: .*unknown schema id 12`),
    )
    assert.match(run.stderr, new RegExp(`1 record fails \\(first at ${topic}/0@3: .*not Confluent Avro framing`))
  })

  it('es replay --on-error skip groups them the same way, in --json too', async () => {
    const run = await runEs([
      'replay',
      ...flags(),
      '--reducer',
      'count',
      '--from-beginning',
      '--on-error',
      'skip',
      '--json',
    ])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as {
      failures: Array<{ count: number; first: string; schema?: { id?: number } }>
    }
    assert.deepEqual(
      result.failures.map((group) => [group.count, group.first, group.schema?.id]),
      [
        [3, `${topic}/0@1`, 12],
        [1, `${topic}/0@3`, undefined],
      ],
    )
  })
})
