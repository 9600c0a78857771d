/**
 * The Parsing Canonical Form of an Avro schema (Avro specification, "Parsing Canonical Form for
 * Schemas"): primitives as bare names, full names everywhere, only the attributes that matter for
 * parsing (name, type, fields, symbols, items, values, size) in that order, no whitespace, and a
 * named type written out at its first occurrence and by name afterwards. Its CRC-64-AVRO is the
 * fingerprint single-object encoding puts on the wire.
 */
import type { AvroType } from './schema.js'

export function parsingCanonicalForm(type: AvroType): string {
  return write(type, new Set())
}

function write(type: AvroType, written: Set<string>): string {
  switch (type.type) {
    case 'null':
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'bytes':
    case 'string':
      return JSON.stringify(type.type)
    case 'array':
      return `{"type":"array","items":${write(type.items, written)}}`
    case 'map':
      return `{"type":"map","values":${write(type.values, written)}}`
    case 'union':
      return `[${type.branches.map((branch) => write(branch, written)).join(',')}]`
    case 'record':
    case 'enum':
    case 'fixed': {
      const name = JSON.stringify(type.name)
      if (written.has(type.name)) return name
      written.add(type.name)
      if (type.type === 'enum') {
        return `{"name":${name},"type":"enum","symbols":[${type.symbols.map((s) => JSON.stringify(s)).join(',')}]}`
      }
      if (type.type === 'fixed') return `{"name":${name},"type":"fixed","size":${type.size}}`
      const fields = type.fields.map(
        (field) => `{"name":${JSON.stringify(field.name)},"type":${write(field.type, written)}}`,
      )
      return `{"name":${name},"type":"record","fields":[${fields.join(',')}]}`
    }
  }
}
