/**
 * Wire formats written by encoders that are not es's own, on the real broker, read with `es tail`
 * and folded with `es replay`: Python's protobuf (classes from protoc), confluent-kafka-python's
 * Confluent ProtobufSerializer against the test registry, and Apache Avro's Python library
 * writing v1 and v2 of a schema (read with a reader schema). See test/support/python/.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ndjsonLines, runEs } from '../support/cli.js'
import { type FakeRegistry, startFakeRegistry } from '../support/fake-registry.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { tempDir } from '../support/temp-dir.js'

const execFileAsync = promisify(execFile)
const brokers = testBrokers()
const python = join(dirname(fileURLToPath(import.meta.url)), '../../../test/support/python')
const at = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')

describe('fixtures from independent encoders (Python protobuf, confluent-kafka, Apache Avro)', () => {
  const topics = {
    protobuf: uniqueTopic('es-fx-protobuf'),
    confluent: uniqueTopic('es-fx-protobuf-confluent'),
    avro: uniqueTopic('es-fx-avro-evolution'),
  }
  let registry: FakeRegistry
  let dir: string
  const configs: Record<string, string> = {}

  before(async () => {
    registry = await startFakeRegistry()
    dir = await tempDir('es-fixtures-')
    for (const topic of Object.values(topics)) await createTopic(topic)
    await execFileAsync('protoc', [`--python_out=${dir}`, '-I', python, 'bank_events.proto', 'bank_events_v2.proto'], {
      cwd: python,
    })
    // Debian's python3 (its python3-protobuf, python3-confluent-kafka, python3-avro).
    const { stdout } = await execFileAsync('/usr/bin/python3', [
      join(python, 'write_fixtures.py'),
      brokers,
      registry.url,
      dir,
      topics.protobuf,
      topics.confluent,
      topics.avro,
    ])
    assert.match(stdout, /"confluent": 3/)
    await writeFile(
      join(dir, 'AccountOpened-v2.avsc'),
      JSON.stringify({
        type: 'record',
        name: 'AccountOpened',
        namespace: 'bank',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'balance', type: 'long' },
          { name: 'currency', type: 'string', default: 'EUR' },
        ],
      }),
    )
    const config = async (name: string, topic: string, value: string, envelope: string) => {
      configs[name] = join(dir, `${name}.yaml`)
      await writeFile(
        configs[name],
        [
          `brokers: ${brokers}`,
          `schemaRegistry: ${registry.url}`,
          'services:',
          '  bank:',
          `    streams: { events: ${topic} }`,
          `    codec: { key: string, value: ${value} }`,
          `    envelope: ${envelope}`,
          '',
        ].join('\n'),
      )
    }
    await config(
      'protobuf',
      topics.protobuf,
      `{ type: protobuf, protos: [${join(python, 'bank_events.proto')}], messageType: "header:ce_type" }`,
      '{ type: "header:ce_type | simple-name", payload: $ }',
    )
    await config('confluent', topics.confluent, 'protobuf-confluent', '{ type: schema, payload: $ }')
    await config(
      'avro',
      topics.avro,
      `{ type: avro-confluent, readerSchema: ${join(dir, 'AccountOpened-v2.avsc')} }`,
      '{ type: schema, payload: $ }',
    )
  })
  after(() => registry.close())

  const tail = async (name: string) => {
    const run = await runEs(['tail', '--config', configs[name], '-e', '-o', 'ndjson'])
    assert.equal(run.code, 0, run.stderr)
    return ndjsonLines(run.stdout)
  }

  it('es tail reads Python protobuf messages by the proto3 JSON mapping, unknown fields kept', async () => {
    const lines = await tail('protobuf')
    assert.deepEqual(
      lines.map((line) => [line.type, line.value]),
      [
        [
          'FundsDeposited',
          {
            account_id: 'acc-1',
            amount_cents: 1000,
            at: at(1764000000),
            currency: 'USD',
            memo: 'AP9oaQ==',
            tags: { channel: 'atm' },
          },
        ],
        ['FundsWithdrawn', { account_id: 'acc-1', amount_cents: 250, at: at(1764000060) }],
        [
          'FundsDeposited',
          {
            account_id: 'acc-2',
            amount_cents: '1152921504606846976',
            at: at(1764000120),
            currency: 'USD',
            memo: 'AP9oaQ==',
            tags: { channel: 'atm' },
          },
        ],
        [
          'FundsDeposited',
          {
            account_id: 'acc-3',
            amount_cents: 5,
            currency: 'EUR',
            memo: '',
            tags: {},
            $unknown: [{ field: 7, wireType: 2, value: Buffer.from('mobile').toString('base64') }],
          },
        ],
      ],
    )
  })

  it('es tail reads what confluent-kafka-python serialized (message indexes 0 and [1]), schemas from the registry', async () => {
    const lines = await tail('confluent')
    assert.deepEqual(
      lines.map((line) => [
        line.key,
        (line.schema as { name?: string })?.name,
        (line.value as { amount_cents: unknown }).amount_cents,
      ]),
      [
        ['acc-1', 'bank.FundsDeposited', 1000],
        ['acc-1', 'bank.FundsWithdrawn', 250],
        ['acc-2', 'bank.FundsDeposited', '1152921504606846976'],
      ],
    )
    assert.ok(lines.every((line) => line.error === undefined))
    assert.ok(lines.every((line) => typeof (line.schema as { id?: number }).id === 'number'))
  })

  it('es replay folds the Confluent Protobuf events', async () => {
    const run = await runEs([
      'replay',
      '--config',
      configs.confluent,
      '--from-beginning',
      '--reducer',
      'count',
      '--json',
    ])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as { events: number; aggregates: number }
    assert.equal(result.events, 3)
    assert.equal(result.aggregates, 2)
  })

  it('es tail reads Avro v1 and v2 records into the reader schema (defaults filled, int promoted to long)', async () => {
    const lines = await tail('avro')
    assert.deepEqual(
      lines.map((line) => line.value),
      [
        { id: 'acc-1', balance: 10, currency: 'EUR' },
        { id: 'acc-2', balance: 2 ** 40, currency: 'USD' },
        { id: 'acc-1', balance: 12, currency: 'EUR' },
      ],
    )
  })

  it('es replay folds the evolved Avro records in the reader shape', async () => {
    const out = join(dir, 'avro-state.json')
    const run = await runEs([
      'replay',
      '--config',
      configs.avro,
      '--from-beginning',
      '--reducer',
      'latest',
      '--out',
      out,
    ])
    assert.equal(run.code, 0, run.stderr)
    const state = JSON.stringify(JSON.parse(await readFile(out, 'utf8')))
    assert.match(state, /"acc-1".*"balance":12,"currency":"EUR"/)
    assert.match(state, /"acc-2".*"balance":1099511627776,"currency":"USD"/)
  })
})
