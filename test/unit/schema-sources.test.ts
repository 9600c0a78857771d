import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  AvroSchema,
  ConfluentRegistrySource,
  DecodeError,
  FileSchemaSource,
  type SchemaRef,
  type SchemaSource,
  SchemaTopicSource,
  schemasByFingerprint,
} from '../../src/codecs/index.js'
import { UnreachableError } from '../../src/errors.js'
import { startFakeRegistry } from '../support/fake-registry.js'
import { tempDir } from '../support/temp-dir.js'

const schemas = [
  JSON.stringify({ type: 'record', name: 'Operation', namespace: 'bank', fields: [{ name: 'amount', type: 'int' }] }),
  JSON.stringify({
    type: 'record',
    name: 'Movement',
    namespace: 'bank',
    fields: [
      { name: 'amount', type: 'int' },
      { name: 'error', type: 'string', default: '' },
    ],
  }),
  '"string"',
]
const absent = JSON.stringify({ type: 'record', name: 'Absent', fields: [] })

const fingerprintOf = (schema: string): SchemaRef => ({
  kind: 'fingerprint',
  fingerprint: new AvroSchema(schema).fingerprint,
})

interface Fixture {
  source: SchemaSource
  refs: SchemaRef[]
  /** A reference of the kind the source serves, for a schema it does not have. */
  unknown: SchemaRef
  /** A reference of the other kind. */
  otherKind: SchemaRef
}

/** The schema-source contract: every implementation must pass it. */
function schemaSourceContract(name: string, setUp: (schemas: string[]) => Promise<Fixture>) {
  describe(`${name} (SchemaSource contract)`, () => {
    it('hands out each schema by its reference, then holds it for synchronous get', async () => {
      const { source, refs } = await setUp(schemas)
      for (let i = 0; i < schemas.length; i++) {
        const loaded = await source.load(refs[i])
        assert.ok(loaded !== undefined, `schema #${i}`)
        assert.equal(new AvroSchema(loaded).canonicalForm, new AvroSchema(schemas[i]).canonicalForm)
        assert.equal(source.get(refs[i]), loaded)
      }
    })

    it('answers undefined, without failing, for a schema it does not have', async () => {
      const { source, unknown, otherKind } = await setUp(schemas)
      assert.equal(await source.load(unknown), undefined)
      assert.equal(source.get(unknown), undefined)
      assert.equal(await source.load(otherKind), undefined)
      assert.equal(source.get(otherKind), undefined)
    })

    it('gives concurrent loads of one schema the same answer', async () => {
      const { source, refs } = await setUp(schemas)
      const answers = await Promise.all(Array.from({ length: 5 }, () => source.load(refs[1])))
      assert.ok(answers.every((answer) => answer !== undefined && answer === answers[0]))
    })

    it('says what it is', async () => {
      const { source } = await setUp(schemas)
      assert.ok(source.description.length > 0)
    })
  })
}

schemaSourceContract('InMemorySchemaSource', async (texts) => ({
  source: schemasByFingerprint(texts),
  refs: texts.map(fingerprintOf),
  unknown: fingerprintOf(absent),
  otherKind: { kind: 'id', id: 1 },
}))

schemaSourceContract('FileSchemaSource', async (texts) => {
  const dir = await tempDir('es-avsc-')
  const files = await Promise.all(
    texts.map(async (text, i) => {
      const file = join(dir, `s${i}.avsc`)
      // Pretty-printed with a doc, as people write them: same fingerprint as the compact text.
      const document = JSON.parse(text)
      await writeFile(
        file,
        JSON.stringify(typeof document === 'object' ? { doc: 'x', ...document } : document, null, 2),
      )
      return file
    }),
  )
  return {
    source: await FileSchemaSource.open(files),
    refs: texts.map(fingerprintOf),
    unknown: fingerprintOf(absent),
    otherKind: { kind: 'id', id: 1 },
  }
})

schemaSourceContract('SchemaTopicSource', async (texts) => {
  const source = new SchemaTopicSource('schemas-v1')
  for (const text of texts) {
    const key = Buffer.alloc(8)
    key.writeBigUInt64BE(new AvroSchema(text).fingerprint)
    source.addRecord(key, Buffer.from(text))
  }
  return { source, refs: texts.map(fingerprintOf), unknown: fingerprintOf(absent), otherKind: { kind: 'id', id: 1 } }
})

const registries: Array<{ close(): Promise<void> }> = []
after(async () => {
  await Promise.all(registries.map((registry) => registry.close()))
})

schemaSourceContract('ConfluentRegistrySource', async (texts) => {
  const registry = await startFakeRegistry()
  registries.push(registry)
  texts.forEach((text, i) => {
    registry.schemas.set(100 + i, { schema: text })
  })
  return {
    source: new ConfluentRegistrySource({ url: registry.url }),
    refs: texts.map((_, i) => ({ kind: 'id', id: 100 + i })),
    unknown: { kind: 'id', id: 999 },
    otherKind: fingerprintOf(texts[0]),
  }
})

describe('SchemaTopicSource', () => {
  it('reads the key as a big-endian fingerprint (Kafka LongSerializer), as Kaa writes it', () => {
    const source = new SchemaTopicSource('schemas-v1')
    // Key and value of a record Kaa wrote for bank.Movement (Java reference).
    source.addRecord(Buffer.from('97bffaf678211371', 'hex'), Buffer.from(schemas[1]))
    assert.equal(source.get({ kind: 'fingerprint', fingerprint: 0x97bffaf678211371n }), schemas[1])
  })

  it('ignores tombstones and rejects keys that are not 8 bytes', () => {
    const source = new SchemaTopicSource('schemas-v1')
    const key = Buffer.from('97bffaf678211371', 'hex')
    source.addRecord(key, Buffer.from(schemas[1]))
    source.addRecord(key, null)
    assert.equal(source.size, 1)
    assert.throws(
      () => source.addRecord(Buffer.from('abc'), Buffer.from(schemas[0])),
      (error: unknown) => {
        assert.ok(error instanceof DecodeError)
        assert.match(
          error.message,
          /schema topic schemas-v1: key must be an 8-byte big-endian fingerprint, got 3 bytes/,
        )
        return true
      },
    )
  })

  it('refreshes before answering a schema it does not hold yet', async () => {
    let refreshes = 0
    const source: SchemaTopicSource = new SchemaTopicSource('schemas-v1', {
      refresh: async () => {
        refreshes++
        const key = Buffer.alloc(8)
        key.writeBigUInt64BE(new AvroSchema(schemas[0]).fingerprint)
        source.addRecord(key, Buffer.from(schemas[0]))
      },
    })
    assert.equal(await source.load(fingerprintOf(schemas[0])), schemas[0])
    assert.equal(await source.load(fingerprintOf(schemas[0])), schemas[0])
    assert.equal(refreshes, 1)
  })
})

describe('ConfluentRegistrySource', () => {
  it('asks the registry once per id', async () => {
    const registry = await startFakeRegistry()
    registries.push(registry)
    registry.schemas.set(7, { schema: schemas[0] })
    const source = new ConfluentRegistrySource({ url: registry.url })
    await Promise.all([source.load({ kind: 'id', id: 7 }), source.load({ kind: 'id', id: 7 })])
    await source.load({ kind: 'id', id: 7 })
    assert.deepEqual(registry.requests, ['/schemas/ids/7'])
    assert.equal(source.requests, 1)
  })

  it('fails with exit 4 when the registry errs, refuses credentials or cannot be reached', async () => {
    const registry = await startFakeRegistry({ failing: [5], credentials: { username: 'u', password: 'p' } })
    registries.push(registry)
    const withAuth = new ConfluentRegistrySource({ url: registry.url, username: 'u', password: 'p' })
    await assert.rejects(withAuth.load({ kind: 'id', id: 5 }), (error: unknown) => {
      assert.ok(error instanceof UnreachableError)
      assert.match(error.message, /answered HTTP 500 for schema id 5/)
      return true
    })
    assert.equal(await withAuth.load({ kind: 'id', id: 6 }), undefined)
    const withoutAuth = new ConfluentRegistrySource({ url: registry.url })
    await assert.rejects(withoutAuth.load({ kind: 'id', id: 6 }), (error: unknown) => {
      assert.ok(error instanceof UnreachableError)
      assert.equal(error.code, 'REGISTRY_AUTH_FAILED')
      return true
    })
    const closed = await startFakeRegistry()
    await closed.close()
    const unreachable = new ConfluentRegistrySource({ url: closed.url, timeoutMs: 2000 })
    await assert.rejects(unreachable.load({ kind: 'id', id: 1 }), (error: unknown) => {
      assert.ok(error instanceof UnreachableError)
      assert.equal(error.exitCode, 4)
      assert.match(error.message, /cannot be reached/)
      return true
    })
  })

  it('reads Avro only', async () => {
    const registry = await startFakeRegistry()
    registries.push(registry)
    registry.schemas.set(3, { schema: 'syntax = "proto3"; message M {}', schemaType: 'PROTOBUF' })
    const source = new ConfluentRegistrySource({ url: registry.url })
    await assert.rejects(
      source.load({ kind: 'id', id: 3 }),
      /schema id 3 in schema registry \S+ is a PROTOBUF schema, not AVRO/,
    )
  })
})
