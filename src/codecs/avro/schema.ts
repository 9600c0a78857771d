/**
 * Avro schemas (JSON) → a resolved type graph: named types are resolved to full names and shared
 * by reference (so recursive records are cycles), logical types are read as their underlying type,
 * and everything the binary encoding does not need (docs, aliases, order) is dropped except field
 * defaults, which encoding uses.
 */

export type AvroPrimitiveName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string'

export type AvroType =
  | { readonly type: AvroPrimitiveName }
  | AvroRecord
  | AvroEnum
  | AvroFixed
  | { readonly type: 'array'; readonly items: AvroType }
  | { readonly type: 'map'; readonly values: AvroType }
  | { readonly type: 'union'; readonly branches: readonly AvroType[] }

export interface AvroRecord {
  readonly type: 'record'
  /** Full name, e.g. `bank.Movement`. */
  readonly name: string
  readonly fields: AvroField[]
}

export interface AvroField {
  readonly name: string
  readonly type: AvroType
  readonly hasDefault: boolean
  /** The default as written in the schema (Avro's JSON form); meaningful when `hasDefault`. */
  readonly default?: unknown
}

export interface AvroEnum {
  readonly type: 'enum'
  readonly name: string
  readonly symbols: readonly string[]
}

export interface AvroFixed {
  readonly type: 'fixed'
  readonly name: string
  readonly size: number
}

export type AvroNamedType = AvroRecord | AvroEnum | AvroFixed

/** A schema that is not valid Avro; callers turn it into a ConfigError or DecodeError with context. */
export class AvroSchemaError extends Error {}

const PRIMITIVES = new Set<string>(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'])
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Parses schema JSON text or an already parsed schema document. */
export function parseAvroSchema(schema: unknown): AvroType {
  let document = schema
  if (typeof schema === 'string') {
    const trimmed = schema.trim()
    // A bare primitive name is valid schema text too (`string`), besides its JSON form (`"string"`).
    if (PRIMITIVES.has(trimmed)) return { type: trimmed as AvroPrimitiveName }
    try {
      document = JSON.parse(trimmed)
    } catch (error) {
      throw new AvroSchemaError(`schema is not valid JSON: ${(error as Error).message.split('\n')[0]}`)
    }
  }
  return new SchemaParser().parse(document, '')
}

/** The full name of a schema's top-level named type, if it is one. */
export function schemaName(type: AvroType): string | undefined {
  return 'name' in type ? type.name : undefined
}

class SchemaParser {
  private readonly named = new Map<string, AvroNamedType>()

  parse(schema: unknown, namespace: string): AvroType {
    if (typeof schema === 'string') return this.reference(schema, namespace)
    if (Array.isArray(schema)) return this.union(schema, namespace)
    if (schema === null || typeof schema !== 'object') {
      throw new AvroSchemaError(`not a schema: ${JSON.stringify(schema)}`)
    }
    const definition = schema as Record<string, unknown>
    const type = definition.type
    if (typeof type !== 'string') throw new AvroSchemaError(`schema has no "type" name: ${JSON.stringify(schema)}`)
    switch (type) {
      case 'record':
      case 'error':
        return this.record(definition, namespace)
      case 'enum':
        return this.enumeration(definition, namespace)
      case 'fixed':
        return this.fixed(definition, namespace)
      case 'array':
        if (!('items' in definition)) throw new AvroSchemaError('array schema has no "items"')
        return { type: 'array', items: this.parse(definition.items, namespace) }
      case 'map':
        if (!('values' in definition)) throw new AvroSchemaError('map schema has no "values"')
        return { type: 'map', values: this.parse(definition.values, namespace) }
      default:
        if (PRIMITIVES.has(type)) return { type: type as AvroPrimitiveName }
        // `{"type": "com.acme.Money"}`: a reference in object form.
        return this.reference(type, namespace)
    }
  }

  private reference(name: string, namespace: string): AvroType {
    if (PRIMITIVES.has(name)) return { type: name as AvroPrimitiveName }
    const candidates = name.includes('.') ? [name] : namespace ? [`${namespace}.${name}`, name] : [name]
    for (const candidate of candidates) {
      const found = this.named.get(candidate)
      if (found) return found
    }
    throw new AvroSchemaError(`unknown type "${name}"${namespace ? ` (namespace ${namespace})` : ''}`)
  }

  private union(branches: unknown[], namespace: string): AvroType {
    const parsed = branches.map((branch) => this.parse(branch, namespace))
    const seen = new Set<string>()
    for (const branch of parsed) {
      if (branch.type === 'union') throw new AvroSchemaError('a union cannot directly contain a union')
      const id = 'name' in branch ? branch.name : branch.type
      if (seen.has(id)) throw new AvroSchemaError(`union contains "${id}" twice`)
      seen.add(id)
    }
    return { type: 'union', branches: parsed }
  }

  /** Full name and the namespace its nested definitions inherit. */
  private fullName(definition: Record<string, unknown>, namespace: string): { name: string; namespace: string } {
    const name = definition.name
    if (typeof name !== 'string' || name === '') {
      throw new AvroSchemaError(`${definition.type} schema has no "name"`)
    }
    let full: string
    if (name.includes('.')) full = name
    else {
      const own = typeof definition.namespace === 'string' ? definition.namespace : namespace
      full = own ? `${own}.${name}` : name
    }
    for (const part of full.split('.')) {
      if (!NAME.test(part)) throw new AvroSchemaError(`"${full}" is not a valid Avro name`)
    }
    if (this.named.has(full) || PRIMITIVES.has(full)) throw new AvroSchemaError(`type "${full}" is defined twice`)
    const dot = full.lastIndexOf('.')
    return { name: full, namespace: dot < 0 ? '' : full.slice(0, dot) }
  }

  private record(definition: Record<string, unknown>, namespace: string): AvroRecord {
    const { name, namespace: inner } = this.fullName(definition, namespace)
    if (!Array.isArray(definition.fields)) throw new AvroSchemaError(`record ${name} has no "fields" array`)
    // Registered before its fields are parsed so fields can refer to the record itself.
    const record: AvroRecord = { type: 'record', name, fields: [] }
    this.named.set(name, record)
    const fieldNames = new Set<string>()
    for (const raw of definition.fields as unknown[]) {
      if (raw === null || typeof raw !== 'object') throw new AvroSchemaError(`record ${name} has a malformed field`)
      const field = raw as Record<string, unknown>
      if (typeof field.name !== 'string' || !NAME.test(field.name)) {
        throw new AvroSchemaError(`record ${name} has a field with an invalid name: ${JSON.stringify(field.name)}`)
      }
      if (fieldNames.has(field.name)) throw new AvroSchemaError(`record ${name} has field "${field.name}" twice`)
      fieldNames.add(field.name)
      if (!('type' in field)) throw new AvroSchemaError(`field ${name}.${field.name} has no "type"`)
      const hasDefault = 'default' in field
      record.fields.push({
        name: field.name,
        type: this.parse(field.type, inner),
        hasDefault,
        ...(hasDefault ? { default: field.default } : {}),
      })
    }
    return record
  }

  private enumeration(definition: Record<string, unknown>, namespace: string): AvroEnum {
    const { name } = this.fullName(definition, namespace)
    const symbols = definition.symbols
    if (!Array.isArray(symbols) || symbols.some((s) => typeof s !== 'string' || !NAME.test(s))) {
      throw new AvroSchemaError(`enum ${name} needs "symbols": an array of names`)
    }
    if (new Set(symbols).size !== symbols.length) throw new AvroSchemaError(`enum ${name} repeats a symbol`)
    const type: AvroEnum = { type: 'enum', name, symbols: symbols as string[] }
    this.named.set(name, type)
    return type
  }

  private fixed(definition: Record<string, unknown>, namespace: string): AvroFixed {
    const { name } = this.fullName(definition, namespace)
    const size = definition.size
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw new AvroSchemaError(`fixed ${name} needs a non-negative integer "size"`)
    }
    const type: AvroFixed = { type: 'fixed', name, size }
    this.named.set(name, type)
    return type
  }
}
