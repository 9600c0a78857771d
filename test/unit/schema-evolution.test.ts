/**
 * Reader schemas (Avro resolution through avsc's createResolver) and encoding errors with field
 * paths for the Protobuf and JSON Schema codecs.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { subjectName } from '../../src/codecs/codec.js'
import {
  AvroSchema,
  createCodec,
  DecodeError,
  EncodeError,
  RawAvroCodec,
  retryAfterLoadingSchemas,
} from '../../src/codecs/index.js'
import { ConfluentJsonCodec } from '../../src/codecs/json-confluent-codec.js'
import { ConfluentProtobufCodec, ProtobufCodec, ProtoSchema } from '../../src/codecs/protobuf/protobuf-codecs.js'
import { RegistryClient } from '../../src/codecs/registry-client.js'
import { ConfigError } from '../../src/errors.js'
import { startFakeRegistry } from '../support/fake-registry.js'
import { tempDir } from '../support/temp-dir.js'

const v1 = {
  type: 'record',
  name: 'Cart',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'items', type: 'int' },
  ],
}
const v2 = {
  type: 'record',
  name: 'Cart',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'count', type: 'long', aliases: ['items'] },
    { name: 'owner', type: 'string', default: 'nobody' },
  ],
}
const v3 = { ...v2, fields: [...v2.fields, { name: 'total', type: 'double' }] }

describe('Avro reader schemas', () => {
  it('reads v1 datums into v2: defaults filled, int promoted to long, a field renamed by alias', () => {
    const codec = new RawAvroCodec(new AvroSchema(v1), new AvroSchema(v2, 'Cart-v2.avsc'))
    const written = new AvroSchema(v1).encode({ id: 'c1', items: 3 })
    assert.deepEqual(codec.decode(written), { id: 'c1', count: 3, owner: 'nobody' })
  })

  it('an incompatible pair names both schemas and the field', async () => {
    const writer = new AvroSchema(v1, 'schema id 3 from schema registry http://registry')
    const reader = new AvroSchema(v3, 'Cart-v3.avsc')
    assert.throws(
      () => reader.resolve(writer),
      (error: unknown) => {
        assert.ok(error instanceof DecodeError)
        assert.equal(
          error.message,
          'writer schema shop.Cart (schema id 3 from schema registry http://registry) cannot be read as reader schema shop.Cart (Cart-v3.avsc): field "total" is not in the writer\'s shop.Cart and has no default in the reader',
        )
        return true
      },
    )
    // Cached per writer: every record of that writer fails the same way, exit 5.
    assert.throws(() => reader.readerFor(writer).decode(writer.encode({ id: 'c', items: 1 })), /field "total"/)
    // A raw codec knows both at start: a configuration error (exit 3).
    const dir = await tempDir('es-evolution-')
    await writeFile(join(dir, 'v1.avsc'), JSON.stringify(v1))
    await writeFile(join(dir, 'v3.avsc'), JSON.stringify(v3))
    await assert.rejects(
      createCodec({ type: 'avro', schema: join(dir, 'v1.avsc'), readerSchema: join(dir, 'v3.avsc') }),
      (error: unknown) => error instanceof ConfigError && /v3\.avsc.*field "total"/.test(error.message),
    )
  })
})

describe('encoding errors name the field path (exit 5)', () => {
  it('Protobuf: an unknown field, a wrong type, an integer out of range, a bad enum', async () => {
    const dir = await tempDir('es-proto-')
    const file = join(dir, 'bank.proto')
    await writeFile(
      file,
      'syntax = "proto3"; package bank; enum Kind { A = 0; } message Line { int32 qty = 1; } message Deposit { string id = 1; int64 amount = 2; repeated Line lines = 3; Kind kind = 4; }',
    )
    const codec = new ProtobufCodec(ProtoSchema.fromFiles([file], dir, 'codec.protos'), 'bank.Deposit')
    const failures: Array<[unknown, RegExp]> = [
      [{ id: 'd', amout: 1 }, /^\$\.amout: unknown field \(message bank\.Deposit has id, amount, lines, kind\)$/],
      [{ id: 7 }, /^\$\.id: expected string, got 7$/],
      [
        { lines: [{ qty: 1 }, { qty: 2 ** 31 }] },
        /^\$\.lines\[1\]\.qty: expected int32 \(from -2147483648 to 2147483647\)/,
      ],
      [{ kind: 'B' }, /^\$\.kind: expected one of A \(enum Kind\)/],
      [{ amount: '12x' }, /^\$\.amount: expected int64 \(an integer\)/],
    ]
    for (const [value, message] of failures) {
      assert.throws(
        () => codec.encode(value),
        (error: unknown) =>
          error instanceof EncodeError && error.exitCode === 5 && message.test((error as Error).message),
        String(message),
      )
    }
    assert.deepEqual(codec.decode(codec.encode({ id: 'd', amount: '9007199254740993', lines: [{ qty: 2 }] })), {
      id: 'd',
      amount: '9007199254740993',
      lines: [{ qty: 2 }],
      kind: 'A',
    })
  })

  it('json-confluent validates against its JSON Schema', async () => {
    const dir = await tempDir('es-json-')
    const file = join(dir, 'deposit.schema.json')
    await writeFile(
      file,
      JSON.stringify({ type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } }),
    )
    const codec = new ConfluentJsonCodec({ schema: file, schemaId: undefined })
    assert.throws(() => codec.encode({ amount: 'x' }), /needs schemaId, or a schema file and a registry/)
  })
})

describe('registry subject name strategies', () => {
  it('topic (default), record, topic-record', () => {
    const context = { topic: 'bank.commands', part: 'value' as const }
    assert.equal(subjectName(undefined, context, 'bank.Deposit'), 'bank.commands-value')
    assert.equal(subjectName('topic', { ...context, part: 'key' }, undefined), 'bank.commands-key')
    assert.equal(subjectName('record', context, 'bank.Deposit'), 'bank.Deposit')
    assert.equal(subjectName('topic-record', context, 'bank.Deposit'), 'bank.commands-bank.Deposit')
    assert.throws(() => subjectName('record', context, undefined), /needs the schema's record name/)
  })
})

describe('Confluent Protobuf message indexes', () => {
  it('writes and reads zig-zag indexes of a nested message ([1, 0]), and the single 0 for the first', async () => {
    const registry = await startFakeRegistry()
    try {
      registry.schemas.set(4, {
        schemaType: 'PROTOBUF',
        schema:
          'syntax = "proto3"; package p; message A { string a = 1; } message B { message Inner { int32 n = 1; } }',
      })
      const client = new RegistryClient({ url: registry.url })
      const inner = new ConfluentProtobufCodec({ client, schemaId: 4, messageType: 'p.B.Inner' })
      const bytes = (await retryAfterLoadingSchemas(() => inner.encode({ n: 5 }))) as Buffer
      assert.equal(bytes.subarray(5, 8).toString('hex'), '040200') // count 2, then 1 and 0, zig-zag
      assert.deepEqual(inner.decode(bytes), { n: 5 })
      assert.deepEqual(inner.schemaOf(bytes), { name: 'p.B.Inner', id: 4 })
      const first = new ConfluentProtobufCodec({ client, schemaId: 4, messageType: 'p.A' })
      const a = (await retryAfterLoadingSchemas(() => first.encode({ a: 'x' }))) as Buffer
      assert.equal(a[5], 0)
      assert.deepEqual(first.decode(a), { a: 'x' })
    } finally {
      await registry.close()
    }
  })
})
