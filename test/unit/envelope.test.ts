import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AvroSchema,
  type Codec,
  DecodeError,
  EncodeError,
  JsonCodec,
  MissingSchemaError,
  SchemaTopicSource,
  SingleObjectCodec,
  StringCodec,
} from '../../src/codecs/index.js'
import { defaultEnvelope, type EnvelopeSpec } from '../../src/config/types.js'
import {
  createCommandEncoder,
  createEnvelopeDecoder,
  defaultCommandEnvelope,
  type EncodedRecord,
  encodeCommand,
  parseLocator,
  simpleName,
} from '../../src/envelope/index.js'
import { ConfigError, ExitCode } from '../../src/errors.js'
import type { KafkaRecord } from '../../src/kafka/record.js'
import { seededRandom } from '../support/seeded-random.js'

const json = new JsonCodec()
const text = new StringCodec()
const codecs = { key: text as Codec, value: json as Codec }

function record(value: unknown, extra: Partial<KafkaRecord> = {}): KafkaRecord {
  return {
    topic: 'orders',
    partition: 3,
    offset: 42,
    timestamp: 1_700_000_000_000,
    key: Buffer.from('agg-1'),
    value: value === undefined ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
    ...extra,
  }
}

function envelope(fields: Partial<EnvelopeSpec>): EnvelopeSpec {
  return { ...defaultEnvelope, ...fields }
}

function asRecord(encoded: EncodedRecord, offset = 0): KafkaRecord {
  return {
    topic: 't',
    partition: 0,
    offset,
    timestamp: 5,
    key: encoded.key,
    value: encoded.value,
    headers: encoded.headers,
  }
}

describe('locators', () => {
  it('parse into a source and stages', () => {
    assert.deepEqual(parseLocator('$.data.value_id', 'f'), {
      text: '$.data.value_id',
      field: 'f',
      source: { kind: 'value' },
      stages: [{ kind: 'path', segments: ['data', 'value_id'] }],
    })
    assert.deepEqual(parseLocator(" $.details | json | $['a b'][2].x ", 'f').stages, [
      { kind: 'path', segments: ['details'] },
      { kind: 'json' },
      { kind: 'path', segments: ['a b', 2, 'x'] },
    ])
    assert.deepEqual(parseLocator('header:__TypeId__ | simple-name', 'f').source, {
      kind: 'header',
      name: '__TypeId__',
    })
    assert.deepEqual(parseLocator('$["a|b"]', 'f').stages, [{ kind: 'path', segments: ['a|b'] }])
    for (const source of ['key', 'topic', 'partition', 'offset', 'timestamp', 'schema', 'none'] as const) {
      assert.equal(parseLocator(source, 'f').source.kind, source)
    }
  })

  it('reject what they cannot evaluate with a ConfigError naming the field', () => {
    const cases: Array<[string, RegExp, RegExp?]> = [
      [
        '$.type | jsn',
        /invalid locator "\$\.type \| jsn" at services\.bank\.envelope\.type: unknown stage "jsn"/,
        /did you mean json/,
      ],
      ['kye', /"kye" is not a source/, /did you mean key/],
      ['$..type', /recursive descent/],
      ['$.items[*]', /expected an index or a quoted name/],
      ['$.a.*', /wildcards are not supported/],
      ['$.a |', /an empty stage/],
      ['header:', /a header name is missing/],
      ['none | json', /"none" takes no stages/],
      ["$['open", /unterminated quoted name/],
    ]
    for (const [locator, message, suggestion] of cases) {
      assert.throws(
        () => parseLocator(locator, 'services.bank.envelope.type'),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `${locator}: ${error}`)
          assert.equal(error.exitCode, ExitCode.config)
          assert.match(error.message, message)
          assert.match(error.message, /services\.bank\.envelope\.type/)
          if (suggestion) assert.match(error.suggestion ?? '', suggestion)
          return true
        },
        locator,
      )
    }
  })

  it('shorten class names with simple-name, nested classes too', () => {
    assert.equal(simpleName('com.asimkilic.account.common.events.FundsDepositedEvent'), 'FundsDepositedEvent')
    assert.equal(simpleName('com.acme.Outer$Inner'), 'Inner')
    assert.equal(simpleName('Plain'), 'Plain')
    assert.equal(simpleName(undefined), undefined)
  })
})

describe('locator case stages and case-insensitive names', () => {
  it('| lower and | upper put UUIDs of different producers into one case', () => {
    const decode = createEnvelopeDecoder(
      { envelope: envelope({ aggregateId: '$.data.value_id | lower', type: '$.action | upper' }) },
      codecs,
    )
    const upper = decode(record({ action: 'ValueCreated', data: { value_id: 'D35E95F5-2A7A-4C31-8D28-2EB92643A154' } }))
    const lower = decode(record({ action: 'ValueCreated', data: { value_id: 'd35e95f5-2a7a-4c31-8d28-2eb92643a154' } }))
    assert.equal(upper.aggregateId, 'd35e95f5-2a7a-4c31-8d28-2eb92643a154')
    assert.equal(upper.aggregateId, lower.aggregateId)
    assert.equal(upper.type, 'VALUECREATED')
    // Not text: left as it is.
    assert.equal(decode(record({ data: { value_id: 7 } })).aggregateId, '7')
  })

  it('writes through | lower too', () => {
    const encoded = encodeCommand(
      {
        service: { envelope: envelope({ aggregateId: '$.id | lower' }) },
        type: 'T',
        id: 'c',
        aggregateId: 'ABC-1',
        key: 'k',
        payload: {},
        timestamp: 0,
      },
      codecs,
    )
    assert.equal(JSON.parse(String(encoded.value)).id, 'abc-1')
  })

  it('ignoreCase: $.type finds TYPE (ksqlDB upper-cases column names), exact spelling first', () => {
    const spec = envelope({ type: '$.type', payload: '$.json_data | json', version: '$.json_data | json | $.version' })
    const exact = createEnvelopeDecoder({ envelope: spec }, codecs)
    const loose = createEnvelopeDecoder({ envelope: { ...spec, ignoreCase: true } }, codecs)
    const ksql = record({ TYPE: 'OrderPlacedEvent', JSON_DATA: '{"VERSION":1,"riderId":"r"}' })
    assert.equal(exact(ksql).type, undefined)
    assert.equal(loose(ksql).type, 'OrderPlacedEvent')
    assert.equal(loose(ksql).version, 1)
    assert.deepEqual(loose(ksql).payload, { VERSION: 1, riderId: 'r' })
    assert.equal(loose(record({ Type: 'A', type: 'B' })).type, 'B', 'the exact spelling wins')
    assert.equal(loose(record({ type: 'app' })).type, 'app')
  })
})

describe('envelope decoder', () => {
  it('reads the default envelope: type, id, version, payload, aggregate id from the key', () => {
    const decode = createEnvelopeDecoder({ name: 'bank', envelope: defaultEnvelope }, codecs)
    const value = { type: 'FundsDeposited', id: 'e-1', causationId: 'c-1', version: 4, amount: 10 }
    const event = decode(record(value, { headers: { trace: Buffer.from('t-9'), plain: 'p', gone: undefined } }))
    assert.equal(event.type, 'FundsDeposited')
    assert.equal(event.id, 'e-1')
    assert.equal(event.causationId, 'c-1')
    assert.equal(event.version, 4)
    assert.equal(event.aggregateId, 'agg-1')
    assert.equal(event.key, 'agg-1')
    assert.deepEqual(event.payload, value)
    assert.deepEqual(event.value, value)
    assert.deepEqual(event.headers, { trace: 't-9', plain: 'p' })
    assert.equal(event.timestamp, 1_700_000_000_000, 'no $.timestamp: the record timestamp')
    assert.deepEqual([event.topic, event.partition, event.offset], ['orders', 3, 42])
  })

  it('takes envelope timestamps as ISO text or epoch ms, else the record timestamp', () => {
    const decode = createEnvelopeDecoder({ envelope: envelope({ timestamp: '$.at' }) }, codecs)
    assert.equal(decode(record({ at: '2021-04-19T08:58:19.818153Z' })).timestamp, Date.UTC(2021, 3, 19, 8, 58, 19, 818))
    assert.equal(decode(record({ at: 1666950000000 })).timestamp, 1666950000000)
    assert.equal(decode(record({ at: '1666950000000' })).timestamp, 1666950000000)
    assert.equal(decode(record({ at: 'yesterday' })).timestamp, 1_700_000_000_000)
    assert.equal(decode(record({})).timestamp, 1_700_000_000_000)
  })

  it('reads headers, record metadata, conversions and paths', () => {
    const decode = createEnvelopeDecoder(
      {
        envelope: envelope({
          type: 'header:__TypeId__ | simple-name',
          id: 'offset | string',
          causationId: 'topic',
          correlationId: "$['x-correlation']",
          aggregateId: '$.lines[1].sku',
          version: '$.v | number',
          timestamp: 'timestamp',
          payload: 'partition',
        }),
      },
      codecs,
    )
    const event = decode(
      record(
        { lines: [{ sku: 'a' }, { sku: 'b' }], v: '7', 'x-correlation': 12 },
        { headers: { __TypeId__: Buffer.from('com.acme.Events$FundsDeposited') } },
      ),
    )
    assert.deepEqual(
      [event.type, event.id, event.causationId, event.correlationId, event.aggregateId, event.version, event.payload],
      ['FundsDeposited', '42', 'orders', '12', 'b', 7, 3],
    )
  })

  it('parses a JSON document inside a string field once per record, never sharing it across records', () => {
    const decode = createEnvelopeDecoder(
      {
        envelope: envelope({
          type: '$.sub_type',
          version: '$.details | json | $.version',
          timestamp: '$.details | json | $.createdDate',
          payload: '$.details | json',
        }),
      },
      codecs,
    )
    const details = JSON.stringify({ version: 2, createdDate: '2021-04-19T08:58:20.895710Z', driverId: 'd-1' })
    const value = { order_id: 'o-1', type: 'event', sub_type: 'OrderAcceptedEvent', details }
    const first = decode(record(value))
    const second = decode(record(value))
    assert.equal(first.version, 2)
    assert.equal(first.timestamp, Date.parse('2021-04-19T08:58:20.895Z'))
    assert.deepEqual(first.payload, JSON.parse(details))
    assert.notEqual(first.payload, second.payload, 'each record gets its own payload object')
  })

  it('reads the Avro writer schema name through `schema`', () => {
    const movement = {
      type: 'record',
      name: 'Movement',
      namespace: 'bank',
      fields: [
        { name: 'amount', type: 'int' },
        { name: 'error', type: 'string' },
      ],
    }
    const topic = new SchemaTopicSource('schemas-v1')
    const key = Buffer.alloc(8)
    key.writeBigUInt64BE(new AvroSchema(movement).fingerprint)
    topic.addRecord(key, Buffer.from(JSON.stringify(movement)))
    const value = new SingleObjectCodec({ topic })
    const decode = createEnvelopeDecoder({ envelope: envelope({ type: 'schema | simple-name' }) }, { key: text, value })
    const bytes = Buffer.from('c30171132178f6fabf973b24696e73756666696369656e742066756e6473', 'hex')
    const event = decode({ ...record(undefined), value: bytes })
    assert.equal(event.type, 'Movement')
    assert.deepEqual(event.payload, { amount: -30, error: 'insufficient funds' })
  })

  it('places decode failures at topic/partition/offset, naming the part', () => {
    const decode = createEnvelopeDecoder(
      { envelope: envelope({ payload: '$.details | json' }) },
      { key: json, value: json },
    )
    const cases: Array<[KafkaRecord, string, string]> = [
      [
        record({ details: '{}' }, { key: Buffer.from('hello') }),
        'key',
        'cannot decode key of orders/3@42: not valid JSON at position 0',
      ],
      [
        record('{"details": ', { key: null }),
        'value',
        'cannot decode value of orders/3@42: not valid JSON: unexpected end at position 12',
      ],
      [
        record({ details: '{"a":}' }, { key: null }),
        'envelope',
        'cannot decode envelope of orders/3@42: $.details | json: not valid JSON at position 5',
      ],
    ]
    for (const [input, part, message] of cases) {
      assert.throws(
        () => decode(input),
        (error: unknown) => {
          assert.ok(error instanceof DecodeError)
          assert.equal(error.message, message)
          assert.equal(error.exitCode, 5)
          assert.deepEqual(
            {
              topic: error.where?.topic,
              partition: error.where?.partition,
              offset: error.where?.offset,
              part: error.where?.part,
            },
            { topic: 'orders', partition: 3, offset: 42, part },
          )
          return true
        },
        part,
      )
    }
  })

  it('lets a missing schema through with its position and its load()', async () => {
    let fed = false
    const topic: SchemaTopicSource = new SchemaTopicSource('schemas-v1', {
      refresh: async () => {
        fed = true
        const schema = {
          type: 'record',
          name: 'Operation',
          namespace: 'bank',
          fields: [{ name: 'amount', type: 'int' }],
        }
        const key = Buffer.alloc(8)
        key.writeBigUInt64BE(new AvroSchema(schema).fingerprint)
        topic.addRecord(key, Buffer.from(JSON.stringify(schema)))
      },
    })
    const decode = createEnvelopeDecoder(
      { envelope: defaultEnvelope },
      { key: text, value: new SingleObjectCodec({ topic }) },
    )
    const bytes = Buffer.from('c301a823aa2431eb49c1c801', 'hex') // bank.Operation{amount: 100}, Java
    const input = { ...record(undefined), value: bytes }
    let missing: unknown
    try {
      decode(input)
    } catch (error) {
      missing = error
    }
    assert.ok(missing instanceof MissingSchemaError)
    assert.match(
      missing.message,
      /^cannot decode value of orders\/3@42: schema fingerprint 0xc149eb3124aa23a8 is not loaded$/,
    )
    await missing.load()
    assert.ok(fed)
    assert.deepEqual(decode(input).payload, { amount: 100 })
  })

  it('refuses a bad locator when it is created', () => {
    assert.throws(
      () => createEnvelopeDecoder({ name: 'bank', envelope: envelope({ version: '$.v | integer' }) }, codecs),
      /services\.bank\.envelope\.version: unknown stage "integer"/,
    )
  })
})

describe('command encoder', () => {
  const command = {
    type: 'DepositFunds',
    payload: { amount: 25, currency: 'EUR' },
    id: 'cmd-1',
    aggregateId: 'acc-7',
    timestamp: Date.UTC(2024, 0, 2, 3, 4, 5),
  }

  it('writes the zero-config command envelope {id, type, timestamp, data}, keyed by the aggregate', () => {
    const encoded = encodeCommand(
      { ...command, expectedVersion: 3, service: { envelope: defaultCommandEnvelope } },
      codecs,
    )
    assert.equal(encoded.key?.toString(), 'acc-7')
    assert.deepEqual(JSON.parse(encoded.value?.toString() ?? ''), {
      data: { amount: 25, currency: 'EUR' },
      type: 'DepositFunds',
      id: 'cmd-1',
      version: 3,
      timestamp: '2024-01-02T03:04:05.000Z',
    })
    assert.deepEqual(encoded.headers, {})
  })

  it('writes into a JSON document inside a string field, with command defaults (seed 003)', () => {
    const service = {
      envelope: envelope({
        type: '$.sub_type',
        id: 'none',
        aggregateId: 'key',
        version: '$.details | json | $.version',
        expectedVersion: '$.details | json | $.originalVersion',
        timestamp: 'timestamp',
        payload: '$.details | json',
        commandDefaults: { type: 'command', order_id: 'filled-by-send-command', 'header:origin': 'es' },
      }),
    }
    const encoded = encodeCommand(
      { ...command, type: 'AcceptOrderCommand', payload: { driverId: 'd-1' }, expectedVersion: 1, service },
      codecs,
    )
    const value = JSON.parse(encoded.value?.toString() ?? '')
    assert.deepEqual(value, {
      details: value.details,
      type: 'command',
      order_id: 'filled-by-send-command',
      sub_type: 'AcceptOrderCommand',
    })
    assert.deepEqual(JSON.parse(value.details), { driverId: 'd-1', originalVersion: 1 })
    assert.equal(encoded.key?.toString(), 'acc-7')
    assert.deepEqual(encoded.headers, { origin: 'es' })
  })

  it('writes type headers with full class names from typeNames, and refuses unknown ones', () => {
    const service = {
      name: 'accounts',
      envelope: envelope({
        type: 'header:__TypeId__ | simple-name',
        typeNames: { DepositFunds: 'com.acme.commands.DepositFunds' },
        aggregateId: '$.id',
        id: 'header:commandId',
      }),
    }
    const encoded = encodeCommand({ ...command, headers: { origin: 'cli' }, service }, codecs)
    assert.deepEqual(encoded.headers, {
      origin: 'cli',
      __TypeId__: 'com.acme.commands.DepositFunds',
      commandId: 'cmd-1',
    })
    assert.equal(encoded.key, null)
    const decoded = createEnvelopeDecoder(service, codecs)(asRecord(encoded))
    assert.equal(decoded.type, 'DepositFunds')
    assert.equal(decoded.aggregateId, 'acc-7')
    assert.throws(
      () => encodeCommand({ ...command, type: 'Withdraw', service }, codecs),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.match(error.suggestion ?? '', /services\.accounts\.envelope\.typeNames\.Withdraw/)
        return true
      },
    )
    assert.equal(
      encodeCommand({ ...command, type: 'com.acme.Withdraw', service }, codecs).headers.__TypeId__,
      'com.acme.Withdraw',
    )
  })

  it('keys by the command id when the envelope says so (`id: key`, or commandKey)', () => {
    const byIdAtKey = encodeCommand(
      { ...command, service: { envelope: envelope({ id: 'key', aggregateId: '$.cartId' }) } },
      codecs,
    )
    assert.equal(byIdAtKey.key?.toString(), 'cmd-1')
    const byCommandKey = encodeCommand(
      {
        ...command,
        service: { envelope: envelope({ aggregateId: '$.data.value_id', commandKey: '$.id', payload: '$.data' }) },
      },
      codecs,
    )
    assert.equal(byCommandKey.key?.toString(), 'cmd-1')
    const explicit = encodeCommand({ ...command, key: 'given', service: { envelope: envelope({ id: 'key' }) } }, codecs)
    assert.equal(explicit.key?.toString(), 'given')
  })

  it('writes the timestamp as epoch ms when its locator ends in | number', () => {
    const encoded = encodeCommand(
      { ...command, service: { envelope: envelope({ timestamp: '$.ts | number' }) } },
      codecs,
    )
    assert.equal(JSON.parse(encoded.value?.toString() ?? '').ts, command.timestamp)
  })

  it('leaves the caller payload untouched and fails clearly when a path is blocked', () => {
    const payload = { amount: 1, meta: { by: 'me' } }
    encodeCommand({ ...command, payload, service: { envelope: envelope({ type: '$.meta.type' }) } }, codecs)
    assert.deepEqual(payload, { amount: 1, meta: { by: 'me' } })
    assert.throws(
      () =>
        encodeCommand(
          { ...command, payload: { meta: 'text' }, service: { envelope: envelope({ type: '$.meta.type' }) } },
          codecs,
        ),
      (error: unknown) => {
        assert.ok(error instanceof EncodeError)
        assert.match(error.message, /cannot write \$\.meta\.type \(envelope\.type\): \$\.meta is not an object/)
        return true
      },
    )
  })

  it('round-trips type, id, version and payload through random envelopes (property)', () => {
    const random = seededRandom(7)
    const pick = <T>(options: readonly T[]): T => options[Math.floor(random() * options.length)]
    const payloadKeys = ['amount', 'note', 'items', 'nested', 'flag', 'ünï code']
    const randomValue = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 1 ? 4 : 6))
      if (kind === 0) return Math.round((random() - 0.5) * 1e6) / 100
      if (kind === 1) return pick(['', 'x', 'héllo "quoted" | piped', '{"not":"parsed"}'])
      if (kind === 2) return random() < 0.5
      if (kind === 3) return null
      if (kind === 4) return Array.from({ length: Math.floor(random() * 3) }, () => randomValue(depth + 1))
      return randomPayload(depth + 1)
    }
    const randomPayload = (depth = 0): Record<string, unknown> =>
      Object.fromEntries(payloadKeys.filter(() => random() < 0.5).map((key) => [key, randomValue(depth)]))
    const typeNames = { Alpha: 'com.acme.Alpha', Beta: 'com.acme.inner.Outer$Beta' }

    for (let n = 0; n < 300; n++) {
      const payload = pick(['$.data', '$.payload', '$.body | json', '$', '$.wrapper.inner | json'])
      const id = pick(['$.id', '$.meta.id', 'header:id', 'key'])
      const spec = envelope({
        type: pick(['$.type', '$.meta.type', 'header:type', 'header:__TypeId__ | simple-name', '$.kind | string']),
        id,
        aggregateId: id === 'key' ? pick(['$.aggregate', 'header:agg']) : pick(['key', '$.aggregate', 'header:agg']),
        version: pick([
          '$.version',
          '$.meta.version',
          'header:version | number',
          "$.meta['v-n']",
          ...(payload === '$.body | json' ? ['$.body | json | $.v'] : []),
        ]),
        timestamp: pick(['$.timestamp', '$.ts | number', 'header:ts', 'timestamp']),
        payload,
        typeNames,
      })
      const input = {
        type: pick(['Alpha', 'Beta']),
        id: `id-${n}`,
        aggregateId: `agg-${n % 7}`,
        expectedVersion: Math.floor(random() * 100),
        payload: randomPayload(),
        timestamp: 1_600_000_000_000 + n,
      }
      const encoded = createCommandEncoder({ envelope: spec }, codecs)(input)
      const event = createEnvelopeDecoder({ envelope: spec }, codecs)(asRecord(encoded, n))
      const context = `#${n} ${JSON.stringify(spec)}`
      assert.equal(event.type, input.type, context)
      assert.equal(event.id, input.id, context)
      assert.equal(event.aggregateId, input.aggregateId, context)
      assert.equal(event.version, input.expectedVersion, context)
      assert.equal(event.timestamp, spec.timestamp === 'timestamp' ? 5 : input.timestamp, context)
      const decodedPayload = event.payload as Record<string, unknown>
      for (const [key, value] of Object.entries(input.payload)) assert.deepEqual(decodedPayload[key], value, context)
      if (payload === '$.data' || payload === '$.payload' || payload === '$.wrapper.inner | json') {
        assert.deepEqual(decodedPayload, input.payload, context)
      }
    }
  })
})
