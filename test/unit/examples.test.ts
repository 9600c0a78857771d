/**
 * Every example under examples/ for a seed system: its config loads, its wire fixtures decode
 * through the envelope into the right type / aggregate id / version / payload, its reducer folds
 * them into the state the real system's read model holds, and a command written by es is what the
 * real producer writes.
 */
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createServiceCodecs, SchemaTopicSource } from '../../src/codecs/index.js'
import { loadConfig, selectService } from '../../src/config/load.js'
import type { ResolvedConfig, ServiceConfig } from '../../src/config/types.js'
import { createCommandEncoder, createEnvelopeDecoder, type DecodedEvent } from '../../src/envelope/index.js'
import type { KafkaRecord } from '../../src/kafka/record.js'
import { loadReducer } from '../../src/replay/reducer.js'
import { readRecordFixtures } from '../support/record-fixtures.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const example = (name: string, file = '') => join(root, 'examples', name, file)

interface Loaded {
  config: ResolvedConfig
  service: ServiceConfig
  records: KafkaRecord[]
  decode: (record: KafkaRecord) => DecodedEvent
  encode: ReturnType<typeof createCommandEncoder>
  schemaTopics: Map<string, SchemaTopicSource>
}

async function load(name: string, options: { service?: string; fixtures?: string } = {}): Promise<Loaded> {
  const config = await loadConfig({ configPath: example(name, 'es.config.yaml'), cwd: root, env: {} })
  const service = selectService(config, options.service)
  assert.ok(service)
  const schemaTopics = new Map<string, SchemaTopicSource>()
  const codecs = await createServiceCodecs(service, config, {
    schemaTopicSource: (topic) => {
      const source = schemaTopics.get(topic) ?? new SchemaTopicSource(topic)
      schemaTopics.set(topic, source)
      return source
    },
  })
  const records = await readRecordFixtures(example(name, `fixtures/${options.fixtures ?? 'records.ndjson'}`))
  return {
    config,
    service,
    records,
    decode: createEnvelopeDecoder(service, codecs),
    encode: createCommandEncoder(service, codecs),
    schemaTopics,
  }
}

/** The fold of the replay engine: initialState when absent, null removes the aggregate. */
async function foldEvents(service: ServiceConfig, projection: string, events: DecodedEvent[]) {
  const reducer = await loadReducer(service.projections[projection].reducer)
  const state = new Map<string, unknown>()
  for (const event of events) {
    const id = String(event.aggregateId)
    const next = reducer.evolve(state.has(id) ? state.get(id) : reducer.initialState(id), event)
    if (next === null || next === undefined) state.delete(id)
    else state.set(id, next)
  }
  return state
}

const onTopics = (records: KafkaRecord[], ...topics: string[]) => records.filter((r) => topics.includes(r.topic))

describe('examples/shopping-cart (seed 000: raw Avro commands)', () => {
  const cart1 = '2b5b2d9e-3a0c-4c1e-9a43-0e6f6a3b8c11'
  const cart2 = '9d1f7c52-6b8e-4f0a-b1d3-5c2e8a7f4e90'
  const owner2 = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f'
  const apple = '0f8e2a51-7c3d-4b9e-a6f1-2d3c4b5a6978'
  const pear = 'd4c3b2a1-9f8e-4d7c-b6a5-4f3e2d1c0b9a'

  const fixtures = 'shoppingcartcmd-topic.ndjson'

  it('decodes ShoppingCartCmd datums: type from action, event id from the key, cart from cartId', async () => {
    const { service, records, decode } = await load('shopping-cart', { fixtures })
    assert.deepEqual(service.streams.commands, ['shoppingcartcmd-topic'])
    const events = records.map(decode)
    assert.deepEqual(
      events.map((e) => e.type),
      ['Insert', 'AddItem', 'Insert', 'AddItem', 'RemoveItem', 'AddItem', 'SetOwner', 'Delete'],
    )
    assert.equal(events[1].id, 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d')
    assert.equal(events[1].aggregateId, cart1)
    assert.equal(events[1].version, undefined)
    assert.equal(events[1].timestamp, records[1].timestamp)
    assert.deepEqual(events[1].payload, { action: 'AddItem', cartId: cart1, ownerOrItem: apple, count: 3 })
  })

  it('folds carts: items counted, owner changed, deleted cart gone', async () => {
    const { service, records, decode } = await load('shopping-cart', { fixtures })
    const carts = await foldEvents(service, 'carts', records.map(decode))
    assert.deepEqual(Object.fromEntries(carts), {
      [cart1]: { cartId: cart1, owner: owner2, items: { [apple]: 2, [pear]: 2 }, version: 4 },
    })
    assert.equal(carts.has(cart2), false)
  })

  it('writes a command byte for byte as the Java producer did, keyed by the command id', async () => {
    const { records, encode } = await load('shopping-cart', { fixtures })
    const encoded = encode({
      type: 'AddItem',
      id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
      payload: { cartId: cart1, ownerOrItem: apple, count: 3 },
      timestamp: records[1].timestamp,
    })
    assert.deepEqual(encoded.key, records[1].key)
    assert.deepEqual(encoded.value, records[1].value)
  })
})

describe('examples/es4kafka-bank (seed 001: Avro single-object, Kaa schema topic)', () => {
  it('decodes movements with schemas from files, type from the writer schema', async () => {
    const { records, decode } = await load('es4kafka-bank')
    const movements = onTopics(records, 'movements').map(decode)
    assert.deepEqual(
      movements.map((e) => [e.type, e.aggregateId, e.payload]),
      [
        ['Movement', 'alice', { amount: 100, error: '' }],
        ['Movement', 'bob', { amount: 10, error: '' }],
        ['Movement', 'alice', { amount: -30, error: '' }],
        ['Movement', 'alice', { amount: 0, error: 'insufficient funds' }],
        ['Movement', 'alice', { amount: 5, error: '' }],
      ],
    )
    assert.deepEqual(
      onTopics(records, 'operations').map((r) => decode(r).type),
      Array(5).fill('Operation'),
    )
  })

  it('decodes with schemas found only in the schemas-v1 topic', async () => {
    const { records, service, config } = await load('es4kafka-bank')
    const topicOnly: ServiceConfig = {
      ...service,
      codec: { ...service.codec, value: { type: 'avro-single-object', schemaTopic: 'schemas-v1' } },
    }
    const topic = new SchemaTopicSource('schemas-v1')
    const codecs = await createServiceCodecs(topicOnly, config, { schemaTopicSource: () => topic })
    const decode = createEnvelopeDecoder(topicOnly, codecs)
    const account = onTopics(records, 'accounts')[0]
    assert.throws(() => decode(account), /schema fingerprint 0x52a3365f43b4c9c4 is not loaded/)
    for (const record of onTopics(records, 'schemas-v1')) topic.addRecord(record.key, record.value)
    assert.equal(topic.size, 3)
    assert.deepEqual([decode(account).type, decode(account).payload], ['Account', { balance: 100 }])
  })

  it('folds movements into the balances Kafka Streams wrote to the accounts table', async () => {
    const { service, records, decode } = await load('es4kafka-bank')
    const balances = await foldEvents(service, 'accounts', onTopics(records, 'movements').map(decode))
    assert.deepEqual(Object.fromEntries(balances), { alice: { balance: 75 }, bob: { balance: 10 } })
    const latestSnapshots = new Map(
      onTopics(records, 'accounts').map((r) => [decode(r).aggregateId, decode(r).payload]),
    )
    assert.deepEqual(Object.fromEntries(latestSnapshots), Object.fromEntries(balances))
  })

  it('writes an Operation command byte for byte as Kaa/Avro did', async () => {
    const { records, encode } = await load('es4kafka-bank')
    const first = onTopics(records, 'operations')[0]
    const encoded = encode({ type: 'Operation', id: 'op-1', key: 'alice', payload: { amount: 100 }, timestamp: 0 })
    assert.deepEqual(encoded.key, first.key)
    assert.deepEqual(encoded.value, first.value)
  })
})

describe('examples/calculator (seed 002: JSON, type in "action")', () => {
  const v1 = 'd35e95f5-2a7a-4c31-8d28-2eb92643a154'
  const v2 = '5b1c7a3e-9f0d-4e2b-8c6a-1d2e3f4a5b6c'

  it('decodes commands and events: aggregate from data.value_id, causation from parent', async () => {
    const { records, decode } = await load('calculator')
    const [created] = onTopics(records, 'events').map(decode)
    assert.equal(created.type, 'ValueCreated')
    assert.equal(created.id, 'ed94c20c-abe2-4d62-9cc7-904b266ed37a')
    assert.equal(created.causationId, '7037a79d-7e6b-4969-9ea5-6d5c28605ac4')
    assert.equal(created.aggregateId, v1)
    assert.equal(created.key, 'ed94c20c-abe2-4d62-9cc7-904b266ed37a')
    assert.deepEqual(created.payload, { value_id: v1, value: 3 })
    const commands = onTopics(records, 'commands').map(decode)
    assert.deepEqual(
      commands.map((e) => e.type),
      ['CreateValue', 'UpdateValue', 'UpdateValue', 'CreateValue', 'UpdateValue'],
    )
    assert.equal(commands[2].aggregateId, v1)
  })

  it('folds values, repeated histories after a restart included', async () => {
    const { service, records, decode } = await load('calculator')
    const values = await foldEvents(service, 'values', onTopics(records, 'events').map(decode))
    assert.deepEqual(Object.fromEntries(values), {
      [v1]: { value_id: v1, value: 6.5 },
      [v2]: { value_id: v2, value: 1.5 },
    })
  })

  it('writes a command as the commander does, keyed by its id', async () => {
    const { records, encode } = await load('calculator')
    const original = onTopics(records, 'commands')[0]
    const encoded = encode({
      type: 'CreateValue',
      id: '7037a79d-7e6b-4969-9ea5-6d5c28605ac4',
      payload: { value_id: v1, value: 3 },
      timestamp: 0,
    })
    assert.deepEqual(encoded.key, original.key)
    assert.deepEqual(JSON.parse(String(encoded.value)), JSON.parse(String(original.value)))
  })
})

describe('examples/ride-hailing (seed 003: Jackson envelope, JSON inside json_data, ksqlDB upper case)', () => {
  const order = '827e3a63-d252-415f-af60-94c5a36bfcd6'
  const other = '5a1c9e7b-3d2f-4b8a-9c6d-0e1f2a3b4c5d'
  const rider = '63770803-38f4-4594-aec2-4c74918f7165'
  const driver = '2c068a1a-9263-433f-a70b-067d51b98378'
  const route = [
    { address: 'Київ, вулиця Полярна, 17А', lat: 50.51980052414157, lon: 30.467197278948536 },
    { address: 'Київ, вулиця Новокостянтинівська, 18В', lat: 50.48509161169076, lon: 30.485170724431292 },
  ]

  it('decodes commands and events of the shared topic: version and time inside json_data, ErrorEvent at 0', async () => {
    const { records, decode } = await load('ride-hailing')
    const events = records.map(decode)
    assert.deepEqual(
      events.filter((e) => e.aggregateId === order).map((e) => [e.type, e.version]),
      [
        ['PlaceOrderCommand', undefined],
        ['OrderPlacedEvent', 1],
        ['AcceptOrderCommand', undefined],
        ['CancelOrderCommand', undefined],
        ['OrderAcceptedEvent', 2],
        ['ErrorEvent', 0],
        ['CancelOrderCommand', undefined],
        ['ErrorEvent', 0],
        ['CancelOrderCommand', undefined],
        ['ErrorEvent', 0],
        ['CompleteOrderCommand', undefined],
        ['OrderCompletedEvent', 3],
        ['CancelOrderCommand', undefined],
        ['ErrorEvent', 0],
      ],
    )
    const accepted = events.find((e) => e.type === 'OrderAcceptedEvent')
    assert.equal(accepted?.timestamp, Date.parse('2021-04-23T15:26:23.542Z'))
    assert.deepEqual(accepted?.payload, {
      aggregateId: order,
      version: 2,
      createdDate: '2021-04-23T15:26:23.542921Z',
      driverId: driver,
      eventType: 'OrderAcceptedEvent',
    })
    // Written through ksqlDB (upper-case column names): read all the same.
    const inserted = events.find((e) => e.aggregateId === other && e.type === 'CancelOrderCommand')
    assert.deepEqual(inserted?.payload, { aggregateId: other, expectedVersion: 1, commandType: 'CancelOrderCommand' })
  })

  it('folds orders to what GET /orders/{id} answers (the seed repository README, test.sh step 12)', async () => {
    const { service, records, decode } = await load('ride-hailing')
    const orders = await foldEvents(service, 'orders', records.map(decode))
    // Written out from the README's output, not from the reducer.
    assert.deepEqual(orders.get(order), {
      id: order,
      version: 3,
      status: 'COMPLETED',
      riderId: rider,
      price: 123.45,
      route,
      driverId: driver,
      placedDate: '2021-04-23T15:26:22.543938Z',
      acceptedDate: '2021-04-23T15:26:23.542921Z',
      completedDate: '2021-04-23T15:26:26.791512Z',
      errors: [
        { command: 'CancelOrderCommand', expectedVersion: 1, message: 'Concurrent modification' },
        {
          command: 'CancelOrderCommand',
          expectedVersion: 1,
          message: "Actual version 2 doesn't match expected version 1",
        },
        {
          command: 'CancelOrderCommand',
          expectedVersion: 3,
          message: "Actual version 2 doesn't match expected version 3",
        },
        { command: 'CancelOrderCommand', expectedVersion: 3, message: "Order in status COMPLETED can't be cancelled" },
      ],
    })
    assert.deepEqual(orders.get(other), {
      id: other,
      version: 2,
      status: 'CANCELLED',
      riderId: rider,
      price: 42,
      route,
      placedDate: '2021-04-23T15:26:30.010203Z',
      cancelledDate: '2021-04-23T15:26:40.123456789Z',
      errors: [],
    })
  })

  it('writes a command as OrderCommandSender does: key, aggregate_id, and json_data with aggregateId, expectedVersion, commandType', async () => {
    const { records, decode, encode } = await load('ride-hailing')
    for (const [type, expectedVersion, payload] of [
      ['AcceptOrderCommand', 1, { driverId: driver }],
      ['CompleteOrderCommand', 2, {}],
      ['PlaceOrderCommand', 0, { riderId: rider, price: 123.45, route }],
    ] as const) {
      const original = records.find((r) => decode(r).type === type) as KafkaRecord
      const encoded = encode({ type, id: 'unused', key: order, expectedVersion, payload, timestamp: 0 })
      assert.deepEqual(encoded.key, original.key)
      const value = JSON.parse(String(encoded.value))
      const expected = JSON.parse(String(original.value))
      assert.deepEqual(
        { ...value, json_data: JSON.parse(value.json_data) },
        { ...expected, json_data: JSON.parse(expected.json_data) },
        type,
      )
    }
  })
})

describe('examples/spring-bank (seed 004: topic per event type, type in __TypeId__)', () => {
  const john = '5f0a3c1e-7b2d-4e8f-9a61-3c4d5e6f7a8b'
  const jane = '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'
  const lost = '0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a'

  it('decodes: simple type name from the header, aggregate from $.id, null keys', async () => {
    const { service, records, decode } = await load('spring-bank')
    assert.deepEqual(service.streams.events, [
      'AccountOpenedEvent',
      'FundsDepositedEvent',
      'FundsWithdrawnEvent',
      'AccountClosedEvent',
    ])
    const [opened, , deposited] = records.map(decode)
    assert.deepEqual(
      [opened.type, opened.aggregateId, opened.version, opened.key],
      ['AccountOpenedEvent', john, 0, null],
    )
    assert.equal(opened.timestamp, 1666950000000)
    assert.deepEqual(
      [deposited.type, deposited.version, deposited.payload],
      ['FundsDepositedEvent', 1, { id: john, version: 1, amount: 25 }],
    )
    assert.equal(deposited.timestamp, records[2].timestamp, 'no createdDate: the record timestamp')
    assert.equal(deposited.headers.__TypeId__, 'com.asimkilic.account.common.events.FundsDepositedEvent')
  })

  it('folds the bank_account rows as AccountEventHandler writes them: closed deleted, unknown accounts ignored', async () => {
    const { service, records, decode } = await load('spring-bank')
    // By hand from AccountEventHandler: 50.0 + 25.0 + 12.5 - 17.25; Jane's account deleted on
    // close; the deposit for an account the table never held changes nothing.
    const john_ = {
      id: john,
      accountHolder: 'John Doe',
      creationDate: 1666950000000,
      accountType: 'SAVINGS',
      balance: 70.25,
    }
    // Topic by topic: here every account's events are then in version order too.
    const accounts = await foldEvents(service, 'bank-accounts', records.map(decode))
    assert.deepEqual(Object.fromEntries(accounts), { [john]: john_ })
    assert.equal(accounts.has(jane), false)
    assert.equal(accounts.has(lost), false)
    // The row of the bank_account table: account_type is the enum's ordinal, creation_date a timestamp.
    const reducer = await loadReducer(service.projections['bank-accounts'].reducer)
    assert.deepEqual(reducer.toReadModel?.(john_, john), {
      id: john,
      accountHolder: 'John Doe',
      creationDate: '2022-10-28T09:40:00.000Z',
      accountType: 0,
      balance: 70.25,
    })
  })

  it('writes an event with the full class name in __TypeId__ (typeNames)', async () => {
    const { records, encode } = await load('spring-bank')
    const original = records.find((r) => r.topic === 'FundsDepositedEvent') as KafkaRecord
    const encoded = encode({
      type: 'FundsDepositedEvent',
      id: 'unused',
      aggregateId: john,
      expectedVersion: 1,
      payload: { amount: 25 },
      timestamp: 1666950100000,
    })
    assert.equal(encoded.key, null)
    assert.deepEqual(encoded.headers, { __TypeId__: String(original.headers.__TypeId__) })
    // The timestamp goes where the envelope reads it, as epoch ms (`$.createdDate | number`).
    assert.deepEqual(JSON.parse(String(encoded.value)), {
      ...JSON.parse(String(original.value)),
      createdDate: 1666950100000,
    })
  })
})
