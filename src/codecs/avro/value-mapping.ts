/**
 * How Avro values look in JSON, both ways, compiled once per schema:
 *   null, boolean, string          as themselves
 *   int, float, double             numbers
 *   long                           a number when it is a safe integer (|n| < 2^53), else its
 *                                  decimal text, so no precision is lost silently
 *   bytes, fixed                   base64 text (encoding also takes Buffers)
 *   decimal (logical)              its decimal text, e.g. "12.34" (encoding also takes numbers)
 *   other logical types            their underlying type (timestamp-millis → epoch ms)
 *   enum                           the symbol
 *   array, map, record             arrays and plain objects (fields in schema order)
 *   union                          the branch value itself when the branches can be told apart by
 *                                  their JSON kind (the usual ["null", X]); otherwise, e.g. two
 *                                  record branches, Avro's JSON form `{"full.Name": value}`, so
 *                                  the branch, often the message type, is not lost
 * `toJson` turns what avsc decodes into that (avsc gives records as class instances and bytes as
 * Buffers); `fromJson` turns such JSON into what avsc encodes, naming the path of what does not fit.
 */
import avsc from 'avsc'
import { EncodeError } from '../codec-errors.js'
import { DecimalType, jsonKindOf } from './avsc-types.js'

export type ToJson = (value: unknown) => unknown

type Mapper = ToJson | undefined // undefined: the value is already plain

/** avsc value → plain JSON value, for one type. */
export function compileToJson(type: avsc.Type): ToJson {
  return compile(type, new Map()) ?? identity
}

const identity: ToJson = (value) => value
const base64: ToJson = (value) => (value as Buffer).toString('base64')

function compile(type: avsc.Type, records: Map<avsc.Type, ToJson>): Mapper {
  if (type instanceof avsc.types.LogicalType)
    return type instanceof DecimalType ? undefined : compile(type.underlyingType, records)
  switch (type.typeName) {
    case 'bytes':
    case 'fixed':
      return base64
    case 'array': {
      const items = compile((type as avsc.types.ArrayType).itemsType, records)
      return items && ((value) => (value as unknown[]).map(items))
    }
    case 'map': {
      const values = compile((type as avsc.types.MapType).valuesType as avsc.Type, records)
      if (!values) return undefined
      return (value) => {
        const out: Record<string, unknown> = {}
        for (const [key, item] of Object.entries(value as Record<string, unknown>)) defineKey(out, key, values(item))
        return out
      }
    }
    case 'record':
    case 'error':
      return compileRecord(type as avsc.types.RecordType, records)
    case 'union:wrapped': {
      const branches = new Map<string, ToJson>()
      for (const branch of (type as avsc.types.WrappedUnionType).types) {
        branches.set(branch.branchName as string, compile(branch, records) ?? identity)
      }
      return (value) => {
        if (value === null) return null
        const name = Object.keys(value as object)[0]
        const out: Record<string, unknown> = {}
        defineKey(out, name, (branches.get(name) ?? identity)((value as Record<string, unknown>)[name]))
        return out
      }
    }
    case 'union:unwrapped': {
      const byKind = new Map<string, ToJson>()
      for (const branch of (type as avsc.types.UnwrappedUnionType).types) {
        const mapper = compile(branch, records)
        if (mapper) byKind.set(valueKind(branch), mapper)
      }
      if (byKind.size === 0) return undefined
      return (value) => {
        const mapper = value === null ? undefined : byKind.get(runtimeKind(value))
        return mapper ? mapper(value) : value
      }
    }
    default:
      return undefined
  }
}

/** What avsc hands out for a branch: Buffers for bytes/fixed, arrays, objects (records, maps). */
function valueKind(type: avsc.Type): string {
  if (type instanceof DecimalType) return 'string'
  if (type instanceof avsc.types.LogicalType) return valueKind(type.underlyingType)
  if (type.typeName === 'bytes' || type.typeName === 'fixed') return 'buffer'
  return jsonKindOf(type)
}

function runtimeKind(value: unknown): string {
  if (Buffer.isBuffer(value)) return 'buffer'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** A record as one object literal (a stable shape), compiled once per record type. */
function compileRecord(type: avsc.types.RecordType, records: Map<avsc.Type, ToJson>): ToJson {
  const known = records.get(type)
  if (known) return known
  const mappers: ToJson[] = []
  // Registered before its fields are compiled: recursive records refer to themselves.
  let compiled: ToJson = (value) => compiled(value)
  records.set(type, (value) => compiled(value))
  const properties = type.fields.map((field) => {
    const mapper = compile(field.type, records)
    // Field names are Avro names ([A-Za-z_][A-Za-z0-9_]*): safe as identifiers; a computed key
    // keeps "__proto__" an own property.
    const read = `v.${field.name}`
    if (!mapper) return `[${JSON.stringify(field.name)}]: ${read}`
    mappers.push(mapper)
    return `[${JSON.stringify(field.name)}]: m[${mappers.length - 1}](${read})`
  })
  compiled = new Function('m', `return function (v) { return { ${properties.join(', ')} } }`)(mappers) as ToJson
  return compiled
}

function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true })
  else target[key] = value
}

export type FromJson = (value: unknown, path: string) => unknown

/**
 * Plain JSON → what avsc writes, for one type: base64 → Buffer, `{"branch": value}` kept for
 * wrapped unions, a missing field of a union with null → null. Throws EncodeError naming the path
 * for what it can tell does not fit; avsc's `isValid` judges the rest (see AvroSchema.encode).
 */
export function compileFromJson(type: avsc.Type): FromJson {
  const compiled = new Map<avsc.Type, FromJson>()
  const build = (t: avsc.Type): FromJson => {
    const known = compiled.get(t)
    if (known) return known
    let mapper: FromJson = (value, path) => mapper(value, path)
    compiled.set(t, (value, path) => mapper(value, path))
    mapper = fromJsonOf(t, build)
    return mapper
  }
  return build(type)
}

function fromJsonOf(type: avsc.Type, build: (t: avsc.Type) => FromJson): FromJson {
  if (type instanceof avsc.types.LogicalType) {
    if (type instanceof DecimalType) return (value) => value
    return build(type.underlyingType)
  }
  switch (type.typeName) {
    case 'bytes':
    case 'fixed':
      return (value, path) => {
        if (typeof value !== 'string') return value
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
          throw new EncodeError(`${path}: expected ${describeType(type)}, got ${describeValue(value)}`, {
            code: 'AVRO_ENCODE_MISMATCH',
            where: { path },
          })
        }
        return Buffer.from(value, 'base64')
      }
    case 'array': {
      const items = build((type as avsc.types.ArrayType).itemsType)
      return (value, path) => (Array.isArray(value) ? value.map((item, i) => items(item, `${path}[${i}]`)) : value)
    }
    case 'map': {
      const values = build((type as avsc.types.MapType).valuesType as avsc.Type)
      return (value, path) => {
        if (!isPlainObject(value)) return value
        const out: Record<string, unknown> = {}
        for (const [key, item] of Object.entries(value)) defineKey(out, key, values(item, `${path}${pathKey(key)}`))
        return out
      }
    }
    case 'record':
    case 'error': {
      const fields = (type as avsc.types.RecordType).fields.map((field) => ({
        name: field.name,
        map: build(field.type),
        nullable:
          field.defaultValue() === undefined &&
          field.type.typeName.startsWith('union') &&
          (field.type as avsc.types.UnwrappedUnionType).types.some((branch) => branch.typeName === 'null'),
      }))
      return (value, path) => {
        if (!isPlainObject(value)) return value
        const out: Record<string, unknown> = {}
        for (const field of fields) {
          const item = value[field.name]
          const fieldPath = `${path}.${field.name}`
          if (item === undefined) {
            if (field.nullable) out[field.name] = null
          } else defineKey(out, field.name, field.map(item, fieldPath))
        }
        return out
      }
    }
    case 'union:wrapped': {
      const branches = new Map<string, FromJson>()
      for (const branch of (type as avsc.types.WrappedUnionType).types)
        branches.set(branch.branchName as string, build(branch))
      return (value, path) => {
        if (value === null) return null
        const keys = isPlainObject(value) ? Object.keys(value) : []
        const branch = keys.length === 1 ? branches.get(keys[0]) : undefined
        if (!branch) {
          throw new EncodeError(
            `${path}: expected ${describeType(type)} written as {"<branch>": value} (branches ${[...branches.keys()].join(', ')}), got ${describeValue(value)}`,
            { code: 'AVRO_ENCODE_MISMATCH', where: { path } },
          )
        }
        return { [keys[0]]: branch((value as Record<string, unknown>)[keys[0]], `${path}${pathKey(keys[0])}`) }
      }
    }
    case 'union:unwrapped': {
      const byKind = new Map<string, FromJson>()
      for (const branch of (type as avsc.types.UnwrappedUnionType).types) byKind.set(jsonKindOf(branch), build(branch))
      return (value, path) => {
        const branch = byKind.get(jsonKind(value))
        return branch ? branch(value, path) : value
      }
    }
    default:
      return (value) => value
  }
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'bigint') return 'number'
  return typeof value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
}

function pathKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/** What a type expects, in words, for errors. */
export function describeType(type: avsc.Type): string {
  if (type instanceof DecimalType) return `decimal (decimal text with at most ${type.scale} decimals)`
  if (type instanceof avsc.types.LogicalType) return describeType(type.underlyingType)
  switch (type.typeName) {
    case 'int':
      return 'int (a 32-bit integer)'
    case 'long':
      return 'long (an integer, as a number or decimal text)'
    case 'bytes':
      return 'bytes (base64 text)'
    case 'fixed':
      return `fixed ${type.name} (${(type as avsc.types.FixedType).size} bytes as base64 text)`
    case 'enum':
      return `one of ${(type as avsc.types.EnumType).symbols.join(', ')} (enum ${type.name})`
    case 'array':
      return 'an array'
    case 'map':
      return 'an object (map)'
    case 'record':
    case 'error':
      return `an object (record ${type.name})`
    case 'union:wrapped':
    case 'union:unwrapped':
      return `a value for union [${(type as avsc.types.UnwrappedUnionType).types.map((branch) => branch.branchName).join(', ')}]`
    default:
      return type.typeName
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (Buffer.isBuffer(value)) return `${value.length} bytes`
  const text = typeof value === 'bigint' ? String(value) : JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}
