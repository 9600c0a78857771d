import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  AutoCodec,
  BytesCodec,
  createCodec,
  DecodeError,
  EncodeError,
  JsonCodec,
  StringCodec,
} from '../../src/codecs/index.js'
import { describeJsonError, jsonErrorPosition } from '../../src/codecs/json-codec.js'
import { ConfigError, ExitCode } from '../../src/errors.js'
import { tempDir } from '../support/temp-dir.js'

const bytes = (text: string) => Buffer.from(text, 'utf8')

describe('json codec', () => {
  const codec = new JsonCodec()

  it('decodes JSON and encodes back', () => {
    const value = { a: [1, 2, { b: 'ü' }], c: null, d: 1.5 }
    assert.deepEqual(codec.decode(codec.encode(value)), value)
    assert.deepEqual(codec.decode(bytes('  [1, "x"] ')), [1, 'x'])
  })

  it('maps tombstones to null and null to a tombstone', () => {
    assert.equal(codec.decode(null), null)
    assert.equal(codec.encode(null), null)
    assert.equal(codec.encode(undefined), null)
  })

  it('fails with a DecodeError (exit 5) naming the position of the first bad character', () => {
    const cases: Array<[string, string]> = [
      ['{"a":}', 'not valid JSON at position 5'],
      ['{"a":1', 'not valid JSON: unexpected end at position 6'],
      ['hello', 'not valid JSON at position 0'],
      ['[1,2]x', 'not valid JSON at position 5'],
      ['{"a":tru}', 'not valid JSON at position 8'],
      ['{"a":"\\q"}', 'not valid JSON at position 7'],
      ['', 'not valid JSON: empty input'],
    ]
    for (const [text, reason] of cases) {
      assert.throws(
        () => codec.decode(bytes(text)),
        (error: unknown) => {
          assert.ok(error instanceof DecodeError, `${text}: ${error}`)
          assert.equal(error.exitCode, ExitCode.invalidData)
          assert.equal(error.message, reason, text)
          return true
        },
      )
    }
  })

  it('finds no error position in valid JSON (the scanner agrees with JSON.parse)', () => {
    const valid = ['{}', '[]', '0', '-0.5e+10', '"\\u00e9\\n"', '{"a":[true,false,null,{"b":-1}]}', ' \t\n"x" ']
    for (const text of valid) {
      JSON.parse(text)
      assert.equal(jsonErrorPosition(text), undefined, text)
    }
    const invalid = ['01', '1.', '-', '[1,]', '{"a" 1}', '{,}', '"\u0001"', 'nul', '.5']
    for (const text of invalid) {
      assert.throws(() => JSON.parse(text))
      assert.notEqual(jsonErrorPosition(text), undefined, text)
    }
    assert.equal(describeJsonError('{"a": 01}'), 'not valid JSON at position 7')
  })

  it('refuses values JSON cannot carry with an EncodeError', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    assert.throws(() => codec.encode(cyclic), EncodeError)
    assert.equal(codec.encode({ n: 12n })?.toString(), '{"n":12}')
  })
})

describe('string codec', () => {
  const codec = new StringCodec()
  it('decodes UTF-8 text, invalid bytes as U+FFFD', () => {
    assert.equal(codec.decode(bytes('héllo')), 'héllo')
    assert.equal(codec.decode(Buffer.from([0x61, 0xff, 0x62])), 'a\ufffdb')
    assert.equal(codec.decode(null), null)
  })
  it('encodes strings, numbers and objects as text', () => {
    assert.equal(codec.encode('k-1')?.toString(), 'k-1')
    assert.equal(codec.encode(42)?.toString(), '42')
    assert.equal(codec.encode({ a: 1 })?.toString(), '{"a":1}')
    assert.equal(codec.encode(null), null)
  })
})

describe('bytes codec', () => {
  const codec = new BytesCodec()
  it('keeps the Buffer and encodes base64 text back to the same bytes', () => {
    const raw = Buffer.from([0, 1, 254, 255])
    assert.equal(codec.decode(raw), raw)
    assert.deepEqual(codec.encode(raw.toString('base64')), raw)
    assert.deepEqual(codec.encode(`base64:${raw.toString('base64')}`), raw)
    assert.deepEqual(codec.encode(new Uint8Array([1, 2])), Buffer.from([1, 2]))
  })
})

describe('auto codec', () => {
  const codec = new AutoCodec()
  it('is JSON when it parses, else text when UTF-8, else bytes', () => {
    assert.deepEqual(codec.decode(bytes('{"a":1}')), { a: 1 })
    assert.equal(codec.decode(bytes('12')), 12)
    assert.equal(codec.decode(bytes('{"a":')), '{"a":')
    assert.equal(codec.decode(bytes('plain text')), 'plain text')
    const binary = Buffer.from([0xc3, 0x01, 0xff, 0x00])
    assert.equal(codec.decode(binary), binary)
    const utf8ButBinary = Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63, 0x10, 0x01])
    assert.equal(codec.decode(utf8ButBinary), utf8ButBinary)
    assert.equal(codec.decode(bytes('two\tcolumns\n')), 'two\tcolumns\n')
    assert.equal(codec.decode(null), null)
  })
  it('never throws on decode', () => {
    for (let i = 0; i < 200; i++) {
      const random = Buffer.from(Array.from({ length: i % 17 }, (_, j) => (i * 31 + j * 7) % 256))
      assert.doesNotThrow(() => codec.decode(random))
    }
  })
  it('encodes text as text and structures as JSON', () => {
    assert.equal(codec.encode('hi')?.toString(), 'hi')
    assert.equal(codec.encode({ a: [1] })?.toString(), '{"a":[1]}')
  })
})

describe('createCodec', () => {
  it('builds each plain codec', async () => {
    for (const type of ['auto', 'string', 'bytes', 'json'] as const) {
      assert.equal((await createCodec({ type })).name, type)
    }
  })

  it('reads the .avsc of a raw avro codec and fails with a ConfigError naming file and setting', async () => {
    const dir = await tempDir('es-codec-')
    const good = join(dir, 'good.avsc')
    const bad = join(dir, 'bad.avsc')
    await writeFile(good, JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] }))
    await writeFile(bad, JSON.stringify({ type: 'record', name: 'B', fields: [{ name: 'x', type: 'nope' }] }))
    const codec = await createCodec({ type: 'avro', schema: good })
    assert.deepEqual(codec.decode(codec.encode({ x: -3 })), { x: -3 })
    await assert.rejects(
      createCodec({ type: 'avro', schema: bad }, { configPath: 'services.s.codec.value' }),
      (error) => {
        assert.ok(error instanceof ConfigError)
        assert.match(error.message, /bad\.avsc is not a valid Avro schema: undefined type name: nope/)
        assert.match(error.message, /services\.s\.codec\.value\.schema/)
        return true
      },
    )
    await assert.rejects(createCodec({ type: 'avro', schema: join(dir, 'missing.avsc') }), /does not exist/)
  })

  it('needs schemas or a schema topic for single-object, and a registry for Confluent', async () => {
    await assert.rejects(createCodec({ type: 'avro-single-object' }), ConfigError)
    await assert.rejects(createCodec({ type: 'avro-confluent' }, { configPath: 'services.x.codec.value' }), (error) => {
      assert.ok(error instanceof ConfigError)
      assert.match(error.message, /services\.x\.codec\.value needs a schema registry/)
      return true
    })
  })
})
