import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { compileCommandSchema, schemaCacheDir } from '../../src/send/compiled-schemas.js'

const schema = () => ({
  type: 'object',
  required: ['amount', 'id'],
  properties: {
    amount: { type: 'number', exclusiveMinimum: 0 },
    id: { type: 'string', format: 'uuid' },
    at: { type: 'string', format: 'date-time' },
  },
  additionalProperties: false,
})

const payloads = [
  { amount: 1, id: '6f1c8a52-3a8e-4d7e-9f0a-2b9d0c1e4a11' },
  { amount: 0, id: 'not-a-uuid', at: 'yesterday', extra: true },
  { id: 7 },
  'text',
]

function outcomes(validate: (p: unknown) => boolean & { errors?: unknown }) {
  return payloads.map((p) => {
    const ok = validate(p)
    return { ok, errors: (validate as unknown as { errors: unknown }).errors ?? null }
  })
}

describe('command schemas compiled once per machine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-schemas-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('compiles with ajv the first time, then loads the same validator from its file', () => {
    const first = compileCommandSchema(schema(), dir)
    assert.equal(first.from, 'ajv')
    const files = readdirSync(dir)
    assert.equal(files.length, 1)
    assert.match(files[0], /^[0-9a-f]{32}\.cjs$/)
    assert.equal(statSync(join(dir, files[0])).mode & 0o777, 0o600)
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    const again = compileCommandSchema(schema(), dir)
    assert.equal(again.from, 'cache')
    assert.deepEqual(outcomes(again.validate as never), outcomes(first.validate as never))
    assert.equal(outcomes(again.validate as never)[1].ok, false, 'formats are checked from the cache too')
  })

  it('a changed schema compiles again; a damaged file is compiled and written again', () => {
    const changed = { ...schema(), required: ['amount'] }
    assert.equal(compileCommandSchema(changed, dir).from, 'ajv')
    assert.equal(readdirSync(dir).length, 2)
    for (const file of readdirSync(dir)) writeFileSync(join(dir, file), 'module.exports = ')
    const repaired = compileCommandSchema(schema(), dir)
    assert.equal(repaired.from, 'ajv')
    assert.equal(repaired.validate(payloads[0]), true)
    assert.equal(compileCommandSchema(schema(), dir).from, 'cache')
  })

  it('validates the same when the cache cannot be written', { skip: process.getuid?.() === 0 }, () => {
    const readOnly = mkdtempSync(join(tmpdir(), 'es-schemas-ro-'))
    chmodSync(readOnly, 0o500)
    try {
      const compiled = compileCommandSchema(schema(), join(readOnly, 'schemas'))
      assert.equal(compiled.from, 'ajv')
      assert.equal(compiled.validate(payloads[0]), true)
    } finally {
      chmodSync(readOnly, 0o700)
      rmSync(readOnly, { recursive: true, force: true })
    }
  })

  it('validates the same when the cache path is not a directory', () => {
    const file = join(dir, 'a-file')
    writeFileSync(file, '')
    const compiled = compileCommandSchema(schema(), join(file, 'schemas'))
    assert.equal(compiled.from, 'ajv')
    assert.equal(compiled.validate(payloads[2]), false)
  })

  it('lives under $ES_HOME', () => {
    assert.equal(schemaCacheDir({ ES_HOME: '/x/es' }), join('/x/es', 'cache', 'schemas'))
  })
})
