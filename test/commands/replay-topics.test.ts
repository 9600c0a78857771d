/**
 * Seed 004 (Spring bank): one topic per event type, null keys, the type in the __TypeId__ header.
 * A replay over the four topics folds events in the order they happened (record timestamps),
 * whatever order the topics were written or fetched in.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { librdkafkaProduce, type ProducedRecord } from '../support/librdkafka.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const typeId = (name: string) => `com.asimkilic.account.common.events.${name}`

/** The spring-bank example's config in `dir`, on the test broker, its event topics as listed. */
async function writeSpringConfig(dir: string, topics: string[]): Promise<void> {
  const config = (await readFile(join(root, 'examples/spring-bank/es.config.yaml'), 'utf8'))
    .replace(
      /\[AccountOpenedEvent, FundsDepositedEvent, FundsWithdrawnEvent, AccountClosedEvent\]/,
      `[${topics.join(', ')}]`,
    )
    .replace('./reducer.js', join(root, 'examples/spring-bank/reducer.js'))
  assert.ok(config.includes(topics[0]), 'the example config lists the four event topics')
  await writeFile(join(dir, 'es.config.yaml'), `brokers: ${testBrokers()}\n${config.replace(/^brokers:.*$/m, '')}`)
}

describe('es replay over one topic per event type (seed 004, real broker)', () => {
  let dir: string
  const prefix = uniqueTopic('spring')
  const topics = {
    opened: `${prefix}.AccountOpenedEvent`,
    deposited: `${prefix}.FundsDepositedEvent`,
    withdrawn: `${prefix}.FundsWithdrawnEvent`,
    closed: `${prefix}.AccountClosedEvent`,
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-spring-'))
    // Timestamps of 2022: kept from retention for the test's length.
    for (const topic of Object.values(topics)) await createTopic(topic, 1, [{ name: 'retention.ms', value: '-1' }])
    const producer = testKafka().producer()
    await producer.connect()
    const send = (topic: string, type: string, at: number, value: object) =>
      producer.send({
        topic,
        messages: [
          { key: null, value: JSON.stringify(value), timestamp: String(at), headers: { __TypeId__: typeId(type) } },
        ],
      })
    const t0 = 1_666_950_000_000
    // Written in the reverse of the order they happened, and listed in that order in the config
    // (so fetches return closings and deposits first): only timestamp order folds them right.
    await send(topics.closed, 'AccountClosedEvent', t0 + 5000, { id: 'acc-closed', version: 2 })
    await send(topics.withdrawn, 'FundsWithdrawnEvent', t0 + 4000, { id: 'acc-open', version: 2, amount: 5 })
    await send(topics.deposited, 'FundsDepositedEvent', t0 + 3000, { id: 'acc-closed', version: 1, amount: 70 })
    await send(topics.deposited, 'FundsDepositedEvent', t0 + 2000, { id: 'acc-open', version: 1, amount: 25 })
    await send(topics.opened, 'AccountOpenedEvent', t0 + 1000, {
      id: 'acc-closed',
      version: 0,
      accountHolder: 'Jane Roe',
      accountType: 'CURRENT',
      createdDate: t0 + 1000,
      openingBalance: 100,
    })
    await send(topics.opened, 'AccountOpenedEvent', t0, {
      id: 'acc-open',
      version: 0,
      accountHolder: 'John Doe',
      accountType: 'SAVINGS',
      createdDate: t0,
      openingBalance: 50,
    })
    await producer.disconnect()
    await writeSpringConfig(dir, Object.values(topics).reverse())
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('folds in timestamp order across topics: the closed account stays deleted', async () => {
    const out = join(dir, 'accounts.json')
    const run = await runEs([
      'replay',
      '--from-beginning',
      '--out',
      out,
      '--json',
      '--config',
      join(dir, 'es.config.yaml'),
    ])
    assert.equal(run.code, 0, run.stderr)
    const summary = JSON.parse(run.stdout)
    assert.equal(summary.events, 6)
    assert.equal(summary.complete, true)
    const state = JSON.parse(await readFile(out, 'utf8'))
    assert.deepEqual(Object.keys(state), ['acc-open'])
    assert.equal(state['acc-open'].balance, 70)
    assert.equal(state['acc-open'].accountHolder, 'John Doe')
  })

  it('tails the four topics with the type from the header, shortened to its simple name', async () => {
    const run = await runEs([
      'tail',
      '--from-beginning',
      '-e',
      '--format',
      'ndjson',
      '--type',
      'AccountOpenedEvent',
      '--config',
      join(dir, 'es.config.yaml'),
    ])
    assert.equal(run.code, 0, run.stderr)
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    assert.deepEqual(lines.map((l) => [l.type, l.aggregateId]).sort(), [
      ['AccountOpenedEvent', 'acc-closed'],
      ['AccountOpenedEvent', 'acc-open'],
    ])
  })
})

describe('es replay across topics: version order within an aggregate, ties and skew reported (real broker)', () => {
  let dir: string
  const prefix = uniqueTopic('order')
  const topics = {
    opened: `${prefix}.AccountOpenedEvent`,
    deposited: `${prefix}.FundsDepositedEvent`,
    withdrawn: `${prefix}.FundsWithdrawnEvent`,
    closed: `${prefix}.AccountClosedEvent`,
  }
  const t0 = 1_666_950_000_000

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-order-'))
    // Timestamps of 2022: kept from retention for the test's length.
    for (const topic of Object.values(topics)) await createTopic(topic, 1, [{ name: 'retention.ms', value: '-1' }])
    const event = (topic: string, type: string, timestamp: number, value: object): ProducedRecord => ({
      topic,
      timestamp,
      key: null,
      value: { text: JSON.stringify(value) },
      headers: { __TypeId__: typeId(type) },
    })
    const opened = (id: string) =>
      event(topics.opened, 'AccountOpenedEvent', t0, {
        id,
        version: 0,
        accountHolder: 'John Doe',
        accountType: 'SAVINGS',
        createdDate: t0,
        openingBalance: 50.0,
      })
    await librdkafkaProduce(testBrokers(), [
      opened('acc-tie'),
      opened('acc-skew'),
      // The deposit and the close of acc-tie in the same millisecond, in two topics.
      event(topics.deposited, 'FundsDepositedEvent', t0 + 1000, { id: 'acc-tie', version: 1, amount: 25.0 }),
      event(topics.closed, 'AccountClosedEvent', t0 + 1000, { id: 'acc-tie', version: 2 }),
      // acc-skew's close is stamped before the deposit it follows (another producer's clock).
      event(topics.deposited, 'FundsDepositedEvent', t0 + 3000, { id: 'acc-skew', version: 1, amount: 25.0 }),
      event(topics.closed, 'AccountClosedEvent', t0 + 2000, { id: 'acc-skew', version: 2 }),
    ])
    // Closings listed first: the order topics are listed in must not decide anything.
    await writeSpringConfig(dir, [topics.closed, topics.withdrawn, topics.deposited, topics.opened])
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('folds each account opened → deposited → closed, and reports the tie and the skew', async () => {
    const out = join(dir, 'events.json')
    const run = await runEs([
      'replay',
      '--from-beginning',
      '--reducer',
      'collect',
      '--out',
      out,
      '--json',
      '--config',
      join(dir, 'es.config.yaml'),
    ])
    assert.equal(run.code, 0, run.stderr)
    const state = JSON.parse(await readFile(out, 'utf8')) as Record<string, Array<{ type: string; version: number }>>
    for (const id of ['acc-tie', 'acc-skew']) {
      assert.deepEqual(
        state[id].map((e) => [e.type, e.version]),
        [
          ['AccountOpenedEvent', 0],
          ['FundsDepositedEvent', 1],
          ['AccountClosedEvent', 2],
        ],
        id,
      )
    }
    const { ordering } = JSON.parse(run.stdout)
    assert.equal(ordering.sameTimestamp.count, 1)
    assert.equal(ordering.sameTimestamp.first.aggregateId, 'acc-tie')
    assert.equal(ordering.sameTimestamp.first.folded, 'by version')
    assert.deepEqual(ordering.sameTimestamp.first.records, [`${topics.deposited}/0@0`, `${topics.closed}/0@0`])
    assert.equal(ordering.versions.count, 1)
    assert.equal(ordering.versions.backwards, 1)
    assert.equal(ordering.versions.first.aggregateId, 'acc-skew')
    assert.deepEqual(ordering.versions.first.versions, [1, 2])
    // On stderr too, count and first example.
    assert.match(run.stderr, /1 event\(s\) of one aggregate share their record timestamp .* first: acc-tie/)
    assert.match(run.stderr, /1 version\(s\) go backwards \(1\) or repeat \(0\) .* first \(backwards\): acc-skew/)
  })

  it('the real projector fold of the example ends with both accounts deleted, balance never re-created', async () => {
    const out = join(dir, 'accounts.json')
    const run = await runEs(['replay', '--from-beginning', '--out', out, '--config', join(dir, 'es.config.yaml')])
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), {})
  })
})
