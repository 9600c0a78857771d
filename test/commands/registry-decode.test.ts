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

describe('Confluent Avro whose schema only the registry has', () => {
  const topic = uniqueTopic('es-registry-decode')
  let registry: FakeRegistry
  let dir: string
  let config: string

  before(async () => {
    registry = await startFakeRegistry()
    registry.schemas.set(7, { schema: JSON.stringify(schema) })
    const type = avro.Type.forSchema(schema as avro.Schema)
    const frame = (value: unknown) => {
      const header = Buffer.alloc(5)
      header.writeUInt32BE(7, 1)
      return Buffer.concat([header, type.toBuffer(value)])
    }
    await createTopic(topic)
    const producer = testKafka().producer()
    await producer.connect()
    await producer.send({
      topic,
      messages: [
        { key: 'acc-1', value: frame({ type: 'BalanceSet', balance: 10 }) },
        { key: 'acc-2', value: frame({ type: 'BalanceSet', balance: 20 }) },
        { key: 'acc-1', value: frame({ type: 'BalanceSet', balance: 15 }) },
      ],
    })
    await producer.disconnect()
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
})
