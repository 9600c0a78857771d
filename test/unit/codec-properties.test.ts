/**
 * Robustness under any bytes, per codec: 10,000 seeded inputs each (valid encodings, truncations,
 * byte mutations, huge declared lengths and counts spliced in, random bytes). Decoding returns a
 * value or throws a DecodeError, never anything else; it never hangs (a generous deadline per
 * codec); a huge declared length allocates nothing for it (the heap stays bounded). Valid values
 * round-trip: encode → decode is the identity on generated values.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  AutoCodec,
  AvroSchema,
  type Codec,
  ConfluentAvroCodec,
  DecodeError,
  FileSchemaSource,
  InMemorySchemaSource,
  JsonCodec,
  RawAvroCodec,
  retryAfterLoadingSchemas,
  SingleObjectCodec,
} from '../../src/codecs/index.js'
import { ConfluentJsonCodec } from '../../src/codecs/json-confluent-codec.js'
import { ConfluentProtobufCodec, ProtobufCodec, ProtoSchema } from '../../src/codecs/protobuf/protobuf-codecs.js'
import { RegistryClient } from '../../src/codecs/registry-client.js'
import { type FakeRegistry, startFakeRegistry } from '../support/fake-registry.js'
import { seededRandom } from '../support/seeded-random.js'
import { tempDir } from '../support/temp-dir.js'

const INPUTS = 10_000

const avroSchema = {
  type: 'record',
  name: 'Event',
  namespace: 'prop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'n', type: 'long' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'nulls', type: { type: 'array', items: 'null' } },
    { name: 'attrs', type: { type: 'map', values: ['null', 'int'] } },
    { name: 'blob', type: 'bytes' },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    { name: 'maybe', type: ['null', 'double'] },
  ],
}

const proto = `syntax = "proto3";
package prop;
import "google/protobuf/timestamp.proto";
message Event {
  string id = 1;
  int64 n = 2;
  repeated string tags = 3;
  map<string, int32> attrs = 4;
  bytes blob = 5;
  Kind kind = 6;
  google.protobuf.Timestamp at = 7;
  Inner inner = 8;
  message Inner { repeated Inner children = 1; sint32 depth = 2; }
}
enum Kind { A = 0; B = 1; }
`

/** A random value of the schemas above (JSON form). */
function randomEvent(random: () => number, protobuf: boolean): Record<string, unknown> {
  const text = () => ['', 'a', 'é中😀', 'x'.repeat(Math.floor(random() * 40))][Math.floor(random() * 4)]
  const long = () =>
    random() < 0.2 ? String(2n ** 53n + BigInt(Math.floor(random() * 2 ** 40))) : Math.floor((random() - 0.5) * 2 ** 40)
  const value: Record<string, unknown> = {
    id: text(),
    n: long(),
    tags: Array.from({ length: Math.floor(random() * 4) }, text),
    attrs: Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, (_, i) => [`k${i}`, i])),
    blob: Buffer.from(Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * 256))).toString(
      'base64',
    ),
    kind: random() < 0.5 ? 'A' : 'B',
  }
  if (protobuf) {
    value.at = new Date(Math.floor(random() * 2e12)).toISOString().replace('.000Z', 'Z')
    value.inner = { children: [{ children: [], depth: -1 }], depth: 2 }
  } else {
    value.nulls = Array.from({ length: Math.floor(random() * 3) }, () => null)
    value.maybe = random() < 0.5 ? null : random()
  }
  return value
}

/** A varint of 2^60: as an array count, string or bytes length, or map size, it claims far too much. */
const HUGE = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20])

function mutations(random: () => number, valid: Buffer[]): Buffer[] {
  const inputs: Buffer[] = []
  for (let i = 0; i < INPUTS; i++) {
    const base = valid[i % valid.length]
    const kind = i % 5
    if (kind === 0) inputs.push(base)
    else if (kind === 1) inputs.push(base.subarray(0, Math.floor(random() * base.length)))
    else if (kind === 2) {
      const copy = Buffer.from(base)
      for (let n = 0; n < 1 + Math.floor(random() * 3); n++) {
        if (copy.length) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256)
      }
      inputs.push(copy)
    } else if (kind === 3) {
      const at = Math.floor(random() * (base.length + 1))
      inputs.push(Buffer.concat([base.subarray(0, at), HUGE, base.subarray(at)]))
    } else {
      const head = base.subarray(0, Math.min(base.length, Math.floor(random() * 6)))
      inputs.push(
        Buffer.concat([
          head,
          Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))),
        ]),
      )
    }
  }
  return inputs
}

function assertRobust(codec: Codec, inputs: Buffer[]): void {
  const deadline = Date.now() + 60_000
  const heapBefore = process.memoryUsage().heapUsed
  let decoded = 0
  for (const [i, input] of inputs.entries()) {
    try {
      codec.decode(input)
      decoded++
    } catch (error) {
      if (!(error instanceof DecodeError)) {
        assert.fail(
          `${codec.name}: input #${i} (${input.toString('hex')}) threw ${(error as Error)?.constructor?.name}: ${String(error)}`,
        )
      }
    }
    if (Date.now() > deadline) assert.fail(`${codec.name}: still decoding input #${i} after 60 s`)
  }
  assert.ok(decoded > 0, `${codec.name}: at least the valid inputs decode`)
  const grown = process.memoryUsage().heapUsed - heapBefore
  assert.ok(grown < 256 * 1024 * 1024, `${codec.name}: the heap grew by ${Math.round(grown / 2 ** 20)} MiB`)
}

describe(`codecs under ${INPUTS} random, truncated and mutated inputs each`, () => {
  let registry: FakeRegistry
  let dir: string
  const codecs: Array<{ codec: Codec; valid: Buffer[] }> = []

  before(async () => {
    dir = await tempDir('es-codec-properties-')
    registry = await startFakeRegistry()
    const random = seededRandom(19)
    const schema = new AvroSchema(avroSchema)
    const avroValues = Array.from({ length: 200 }, () => randomEvent(random, false))
    const protoValues = Array.from({ length: 200 }, () => randomEvent(random, true))

    const raw = new RawAvroCodec(schema)
    const avsc = join(dir, 'Event.avsc')
    await writeFile(avsc, JSON.stringify(avroSchema))
    const single = new SingleObjectCodec({ files: await FileSchemaSource.open([avsc]) })
    const source = new InMemorySchemaSource([{ ref: { kind: 'id', id: 3 }, schema: avroSchema }])
    const confluent = new ConfluentAvroCodec(source, { schemaId: 3 })
    await confluent.loadSchema({ kind: 'id', id: 3 })
    const header = (bytes: number[]) => Buffer.from(bytes)
    const fingerprint = Buffer.alloc(8)
    fingerprint.writeBigUInt64LE(schema.fingerprint)
    codecs.push({ codec: raw, valid: avroValues.map((v) => schema.encode(v)) })
    codecs.push({
      codec: single,
      valid: avroValues.map((v) => schema.encode(v, Buffer.concat([header([0xc3, 0x01]), fingerprint]))),
    })
    codecs.push({ codec: confluent, valid: avroValues.map((v) => confluent.encode(v) as Buffer) })

    const file = join(dir, 'prop.proto')
    await writeFile(file, proto)
    const protoSchema = ProtoSchema.fromFiles([file], dir, 'codec.protos')
    const protobuf = new ProtobufCodec(protoSchema, 'prop.Event')
    codecs.push({ codec: protobuf, valid: protoValues.map((v) => protobuf.encode(v) as Buffer) })
    registry.schemas.set(5, { schema: proto, schemaType: 'PROTOBUF' })
    const client = new RegistryClient({ url: registry.url })
    const protobufConfluent = new ConfluentProtobufCodec({ client, schemaId: 5, messageType: 'prop.Event' })
    await protobufConfluent.loadSchema({ kind: 'id', id: 5 })
    codecs.push({ codec: protobufConfluent, valid: protoValues.map((v) => protobufConfluent.encode(v) as Buffer) })

    registry.schemas.set(6, { schema: JSON.stringify({ type: 'object' }), schemaType: 'JSON' })
    const jsonConfluent = new ConfluentJsonCodec({ client, schemaId: 6 })
    await retryAfterLoadingSchemas(() => jsonConfluent.encode({}))
    const jsonText = avroValues.map((v) => Buffer.from(JSON.stringify(v)))
    codecs.push({ codec: new JsonCodec(), valid: jsonText })
    codecs.push({ codec: new AutoCodec(), valid: jsonText })
    codecs.push({
      codec: jsonConfluent,
      valid: jsonText.map((text) => Buffer.concat([Buffer.from([0, 0, 0, 0, 6]), text])),
    })
  })
  after(() => registry.close())

  it('decode returns a value or a DecodeError, never hangs, never allocates for a huge declared length', () => {
    const names = codecs.map(({ codec }) => codec.name)
    assert.deepEqual(names, [
      'avro',
      'avro-single-object',
      'avro-confluent',
      'protobuf',
      'protobuf-confluent',
      'json',
      'auto',
      'json-confluent',
    ])
    for (const [i, { codec, valid }] of codecs.entries()) assertRobust(codec, mutations(seededRandom(100 + i), valid))
  })

  it('encode → decode is the identity on generated values', () => {
    const random = seededRandom(7)
    for (const { codec } of codecs) {
      const protobuf = codec.name.startsWith('protobuf')
      for (let n = 0; n < 200; n++) {
        const value = randomEvent(random, protobuf)
        const decoded = codec.decode(codec.encode(value)) as Record<string, unknown>
        assert.deepEqual(decoded, value, `${codec.name}: ${JSON.stringify(value)}`)
      }
    }
  })
})
