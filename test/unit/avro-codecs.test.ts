import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  AvroSchema,
  type Codec,
  ConfluentAvroCodec,
  createCodec,
  DecodeError,
  EncodeError,
  InMemorySchemaSource,
  MissingSchemaError,
  RawAvroCodec,
  retryAfterLoadingSchemas,
  SchemaTopicSource,
  SingleObjectCodec,
} from '../../src/codecs/index.js'
import { startFakeRegistry } from '../support/fake-registry.js'
import { tempDir } from '../support/temp-dir.js'

const operation = { type: 'record', name: 'Operation', namespace: 'bank', fields: [{ name: 'amount', type: 'int' }] }
const movement = {
  type: 'record',
  name: 'Movement',
  namespace: 'bank',
  fields: [
    { name: 'amount', type: 'int' },
    { name: 'error', type: 'string', default: '' },
  ],
}
const account = { type: 'record', name: 'Account', namespace: 'bank', fields: [{ name: 'balance', type: 'int' }] }

// Apache Avro for Java, BinaryMessageEncoder(bank.Movement).encode({amount: -30, error: "insufficient funds"}).
const javaMovement = Buffer.from('c30171132178f6fabf973b24696e73756666696369656e742066756e6473', 'hex')

async function schemaFiles(...definitions: object[]): Promise<string[]> {
  const dir = await tempDir('es-avro-codec-')
  return Promise.all(
    definitions.map(async (definition, i) => {
      const file = join(dir, `${i}.avsc`)
      await writeFile(file, JSON.stringify(definition))
      return file
    }),
  )
}

function kaaKey(definition: object): Buffer {
  const key = Buffer.alloc(8)
  key.writeBigUInt64BE(new AvroSchema(definition).fingerprint)
  return key
}

describe('avro (raw datum) codec', () => {
  it('decodes a datum written by Java with the .avsc schema, and encodes it back', () => {
    const codec = new RawAvroCodec(
      new AvroSchema({
        type: 'record',
        name: 'ShoppingCartCmd',
        namespace: 'com.github.garyaiki.dendrites.examples.cqrs.shoppingcart.cmd',
        fields: [
          { name: 'action', type: 'string' },
          { name: 'cartId', type: 'string' },
          { name: 'ownerOrItem', type: 'string' },
          { name: 'count', type: ['null', 'int'] },
        ],
      }),
    )
    const bytes = Buffer.from(
      '0e4164644974656d4832623562326439652d336130632d346331652d396134332d3065366636613362386331314830663865326135312d376333642d346239652d613666312d3264336334623561363937380206',
      'hex',
    )
    const value = {
      action: 'AddItem',
      cartId: '2b5b2d9e-3a0c-4c1e-9a43-0e6f6a3b8c11',
      ownerOrItem: '0f8e2a51-7c3d-4b9e-a6f1-2d3c4b5a6978',
      count: 3,
    }
    assert.deepEqual(codec.decode(bytes), value)
    assert.deepEqual(codec.encode(value), bytes)
    assert.equal(codec.schemaOf().name, 'com.github.garyaiki.dendrites.examples.cqrs.shoppingcart.cmd.ShoppingCartCmd')
    assert.equal(codec.decode(null), null)
  })
})

describe('avro-single-object codec', () => {
  it('decodes what Java BinaryMessageEncoder wrote, and writes the same bytes', async () => {
    const codec = await createCodec({ type: 'avro-single-object', schemas: await schemaFiles(operation, movement) })
    assert.deepEqual(codec.decode(javaMovement), { amount: -30, error: 'insufficient funds' })
    assert.equal(codec.schemaOf?.(javaMovement)?.name, 'bank.Movement')
    assert.deepEqual(codec.encode({ amount: -30, error: 'insufficient funds' }), javaMovement)
  })

  it('reads an empty value and a tombstone as null', async () => {
    const codec = await createCodec({ type: 'avro-single-object', schemas: await schemaFiles(operation) })
    assert.equal(codec.decode(Buffer.alloc(0)), null)
    assert.equal(codec.decode(null), null)
    assert.equal(codec.encode(null), null)
  })

  it('encodes with the first listed schema that takes the value, preferring one with every property', async () => {
    const codec = await createCodec({
      type: 'avro-single-object',
      schemas: await schemaFiles(operation, movement, account),
    })
    const asOperation = codec.encode({ amount: 10 }) as Buffer
    assert.equal(codec.schemaOf?.(asOperation)?.name, 'bank.Operation')
    const asMovement = codec.encode({ amount: 0, error: 'insufficient funds' }) as Buffer
    assert.equal(codec.schemaOf?.(asMovement)?.name, 'bank.Movement')
    assert.equal(codec.schemaOf?.(codec.encode({ balance: 3 }) as Buffer)?.name, 'bank.Account')
    assert.throws(
      () => codec.encode({ total: 1 }),
      (error: unknown) => {
        assert.ok(error instanceof EncodeError)
        assert.match(error.message, /fits none of the schemas bank\.Operation, bank\.Movement, bank\.Account/)
        return true
      },
    )
  })

  it('says what is wrong with bytes that are not single-object encoded', async () => {
    const codec = await createCodec({ type: 'avro-single-object', schemas: await schemaFiles(operation) })
    assert.throws(
      () => codec.decode(Buffer.from('{"amount":1}')),
      (error: unknown) => {
        assert.ok(error instanceof DecodeError)
        assert.equal(
          error.message,
          'not Avro single-object encoding (expected C3 01 and an 8-byte fingerprint, got 7B 22 61 6D … (12 bytes))',
        )
        return true
      },
    )
  })

  it('asks for a schema it does not hold, then finds it in the schema topic once fed', async () => {
    const topic = new SchemaTopicSource('schemas-v1')
    const codec = await createCodec(
      { type: 'avro-single-object', schemaTopic: 'schemas-v1' },
      { schemaTopicSource: () => topic },
    )
    assert.throws(
      () => codec.decode(javaMovement),
      (error: unknown) => {
        assert.ok(error instanceof MissingSchemaError)
        assert.deepEqual(error.ref, { kind: 'fingerprint', fingerprint: 0x97bffaf678211371n })
        assert.match(error.message, /schema fingerprint 0x97bffaf678211371 is not loaded/)
        return true
      },
    )
    topic.addRecord(kaaKey(movement), Buffer.from(JSON.stringify(movement)))
    assert.deepEqual(codec.decode(javaMovement), { amount: -30, error: 'insufficient funds' })
  })

  it('loads through the refresh of the schema topic and retries (retryAfterLoadingSchemas)', async () => {
    let refreshed = 0
    const topic: SchemaTopicSource = new SchemaTopicSource('schemas-v1', {
      refresh: async () => {
        refreshed++
        topic.addRecord(kaaKey(movement), Buffer.from(JSON.stringify(movement)))
      },
    })
    const codec = await createCodec(
      { type: 'avro-single-object', schemaTopic: 'schemas-v1' },
      { schemaTopicSource: () => topic },
    )
    assert.deepEqual(await retryAfterLoadingSchemas(() => codec.decode(javaMovement)), {
      amount: -30,
      error: 'insufficient funds',
    })
    assert.equal(refreshed, 1)
  })

  it('fails fast, as a plain DecodeError, on a schema no source has', async () => {
    const codec = await createCodec(
      { type: 'avro-single-object', schemaTopic: 'schemas-v1' },
      { schemaTopicSource: (name) => new SchemaTopicSource(name) },
    )
    await assert.rejects(
      retryAfterLoadingSchemas(() => codec.decode(javaMovement)),
      (error: unknown) => {
        assert.ok(error instanceof DecodeError && !(error instanceof MissingSchemaError))
        assert.equal(error.message, 'unknown schema fingerprint 0x97bffaf678211371')
        assert.match(error.suggestion ?? '', /schema topic schemas-v1/)
        return true
      },
    )
    assert.throws(() => codec.decode(javaMovement), /^DecodeError: unknown schema fingerprint/)
  })

  it('reports a broken schema from a source as a DecodeError for its records', async () => {
    const broken = new InMemorySchemaSource([
      { ref: { kind: 'fingerprint', fingerprint: 0x97bffaf678211371n }, schema: '{"type":"record"}' },
    ])
    const codec = new SingleObjectCodec({ others: [broken] })
    assert.throws(() => codec.decode(javaMovement), /from in-memory schemas is not valid Avro: /)
  })

  it('decodes a stream of records of several schemas', async () => {
    const files = await schemaFiles(operation, movement, account)
    const codec = await createCodec({ type: 'avro-single-object', schemas: files })
    const values = [{ amount: 5 }, { balance: 9 }, { amount: 1, error: 'x' }, { amount: -2 }]
    const encoded = values.map((value) => codec.encode(value))
    assert.deepEqual(
      encoded.map((bytes) => codec.decode(bytes)),
      [{ amount: 5 }, { balance: 9 }, { amount: 1, error: 'x' }, { amount: -2 }],
    )
  })
})

describe('avro-confluent codec', () => {
  const registrySource = () =>
    new InMemorySchemaSource([
      { ref: { kind: 'id', id: 7 }, schema: movement },
      { ref: { kind: 'id', id: 8 }, schema: operation },
    ])
  const frame = (id: number, datum: Buffer) => {
    const header = Buffer.alloc(5)
    header.writeUInt32BE(id, 1)
    return Buffer.concat([header, datum])
  }

  it('decodes 0x00 + id + datum once the schema is loaded', async () => {
    const codec = new ConfluentAvroCodec(registrySource())
    const bytes = frame(7, new AvroSchema(movement).encode({ amount: 4, error: '' }))
    // The in-memory source answers synchronously: no load needed.
    assert.deepEqual(codec.decode(bytes), { amount: 4, error: '' })
    assert.equal(codec.schemaOf(bytes)?.name, 'bank.Movement')
    assert.throws(() => codec.decode(Buffer.from([1, 0, 0, 0, 7, 0])), /not Confluent Avro framing/)
  })

  it('encodes with the configured schema id', () => {
    const codec = new ConfluentAvroCodec(registrySource(), { schemaId: 8 })
    const bytes = codec.encode({ amount: 12 }) as Buffer
    assert.equal(bytes.readUInt32BE(1), 8)
    assert.deepEqual(codec.decode(bytes), { amount: 12 })
  })

  it('without a schema id nor a registry to ask, says to configure one', () => {
    const codec = new ConfluentAvroCodec(registrySource())
    assert.throws(
      () => codec.encode({ amount: 1 }),
      (error: unknown) => {
        assert.ok(error instanceof EncodeError)
        assert.match(error.suggestion ?? '', /schemaId/)
        return true
      },
    )
  })

  describe('against an HTTP registry', () => {
    const closing: Array<() => Promise<void>> = []
    after(async () => {
      for (const close of closing) await close()
    })

    it('fetches each id once, with the load-and-retry protocol', async () => {
      const registry = await startFakeRegistry()
      closing.push(registry.close)
      registry.schemas.set(21, { schema: JSON.stringify(movement) })
      const codec: Codec = await createCodec({ type: 'avro-confluent' }, { schemaRegistry: { url: registry.url } })
      const bytes = frame(21, new AvroSchema(movement).encode({ amount: 7, error: 'none' }))
      assert.throws(() => codec.decode(bytes), MissingSchemaError)
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await retryAfterLoadingSchemas(() => codec.decode(bytes)), { amount: 7, error: 'none' })
      }
      assert.deepEqual(registry.requests, ['/schemas/ids/21'])
      await assert.rejects(
        retryAfterLoadingSchemas(() => codec.decode(frame(22, Buffer.alloc(1)))),
        /unknown schema id 22/,
      )
    })
  })
})
