/**
 * Protobuf messages ↔ JSON, by the proto3 JSON mapping, with es's choices where it leaves room:
 *   - field names as in the .proto (default), or lowerCamelCase (`json_name`) by option;
 *   - every field is shown, defaults included (0, "", false, [], {}), except unset message fields,
 *     unset oneof members and unset proto3 `optional` fields: a reducer reads `payload.amount`
 *     and gets 0, not undefined;
 *   - 64-bit integers as numbers when safe, else decimal text; enums by name (unknown values as
 *     numbers); bytes as base64; NaN/Infinity as text;
 *   - well-known types: Timestamp (RFC 3339), Duration ("1.5s"), FieldMask, Struct/Value/
 *     ListValue (plain JSON) through protobufjs's ProtoJSON; wrappers as their value; Empty as {};
 *     Any as {"@type", …fields} when its type is known, else {"@type", "value": base64};
 *   - unknown fields (written by a newer schema) kept and shown under "$unknown":
 *     [{field, wireType, value}], not dropped.
 * Encoding takes either field-name form and names the path of anything that does not fit.
 */
import protobuf from 'protobufjs'
import protojson from 'protobufjs/ext/protojson.js'
import { EncodeError } from '../codec-errors.js'

export interface MappingOptions {
  fieldNames?: 'proto' | 'lowerCamelCase'
}

type Message = Record<string, unknown> & { $unknowns?: Uint8Array[] }

const PROTOJSON_TYPES = new Set([
  '.google.protobuf.Timestamp',
  '.google.protobuf.Duration',
  '.google.protobuf.FieldMask',
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
])
const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map(
    (name) => `.google.protobuf.${name}Value`,
  ),
)
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])

function jsonName(field: protobuf.Field, options: MappingOptions): string {
  if (options.fieldNames !== 'lowerCamelCase') return field.name
  const explicit = (field.options as Record<string, unknown> | undefined)?.json_name
  return typeof explicit === 'string' ? explicit : protobuf.util.camelCase(field.name)
}

/** A decoded message → JSON. */
export function messageToJson(type: protobuf.Type, message: Message, options: MappingOptions = {}): unknown {
  if (PROTOJSON_TYPES.has(type.fullName)) return protojson.toJson(type, message)
  if (WRAPPERS.has(type.fullName)) {
    const field = type.fields.value.resolve()
    return scalarToJson(field, message.value ?? field.defaultValue)
  }
  if (type.fullName === '.google.protobuf.Any') return anyToJson(type, message, options)
  const out: Record<string, unknown> = {}
  for (const field of type.fieldsArray) {
    field.resolve()
    const own = Object.hasOwn(message, field.name)
    const value = message[field.name]
    const name = jsonName(field, options)
    if (field.map) {
      const entries: Record<string, unknown> = {}
      for (const [key, item] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        define(
          entries,
          LONG_TYPES.has((field as unknown as protobuf.MapField).keyType) ? longKey(key) : key,
          singularToJson(field, item, options),
        )
      }
      define(out, name, entries)
    } else if (field.repeated) {
      define(
        out,
        name,
        ((value ?? []) as unknown[]).map((item) => singularToJson(field, item, options)),
      )
    } else if (own && value !== null && value !== undefined) {
      define(out, name, singularToJson(field, value, options))
    } else if (!(field.resolvedType instanceof protobuf.Type) && !field.partOf && !field.hasPresence) {
      define(out, name, singularToJson(field, field.defaultValue, options))
    }
  }
  if (message.$unknowns?.length) out.$unknown = message.$unknowns.map(unknownField)
  return out
}

function singularToJson(field: protobuf.Field, value: unknown, options: MappingOptions): unknown {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Type) return messageToJson(resolved, value as Message, options)
  if (resolved instanceof protobuf.Enum) {
    const name = resolved.valuesById[value as number]
    return name ?? value
  }
  return scalarToJson(field, value)
}

function scalarToJson(field: protobuf.Field, value: unknown): unknown {
  if (LONG_TYPES.has(field.type)) return longToJson(value, field.type.startsWith('u') || field.type === 'fixed64')
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64')
  if ((field.type === 'double' || field.type === 'float') && typeof value === 'number' && !Number.isFinite(value)) {
    return String(value)
  }
  return value
}

/** A 64-bit integer (a Long, or a number) as a number when safe, else decimal text. */
function longToJson(value: unknown, unsigned: boolean): number | string {
  if (typeof value === 'number') return value
  if (typeof value === 'string') return safeOrText(BigInt(value))
  const long = value as { low: number; high: number; unsigned: boolean }
  const big = (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0)
  return safeOrText(unsigned || long.unsigned ? big : BigInt.asIntN(64, big))
}

function safeOrText(value: bigint): number | string {
  const asNumber = Number(value)
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString()
}

function longKey(key: string): string {
  // protobufjs keys maps of 64-bit integers by the Long's 8-byte hash text.
  if (/^-?\d+$/.test(key)) return key
  const long = protobuf.util.LongBits.fromHash(key)
  return BigInt.asIntN(64, (BigInt(long.hi >>> 0) << 32n) | BigInt(long.lo >>> 0)).toString()
}

function anyToJson(type: protobuf.Type, message: Message, options: MappingOptions): unknown {
  const url = String(message.type_url ?? message.typeUrl ?? '')
  const bytes = (message.value ?? new Uint8Array()) as Uint8Array
  if (url === '') return {}
  const inner = lookupType(type.root as protobuf.Root, url.slice(url.lastIndexOf('/') + 1))
  if (!inner) return { '@type': url, value: Buffer.from(bytes).toString('base64') }
  const body = messageToJson(inner, inner.decode(bytes) as unknown as Message, options)
  if (PROTOJSON_TYPES.has(inner.fullName) || WRAPPERS.has(inner.fullName)) return { '@type': url, value: body }
  return { '@type': url, ...(body as object) }
}

function lookupType(root: protobuf.Root, name: string): protobuf.Type | undefined {
  try {
    return root.lookupType(name)
  } catch {
    return undefined
  }
}

/** An unknown field's raw bytes (tag included) as {field, wireType, value}. */
function unknownField(raw: Uint8Array): { field: number; wireType: number; value: unknown } {
  const reader = protobuf.Reader.create(raw)
  const tag = reader.uint32()
  const field = tag >>> 3
  const wireType = tag & 7
  let value: unknown
  switch (wireType) {
    case 0:
      value = longToJson(reader.uint64(), true)
      break
    case 1:
      value = Buffer.from(raw.subarray(reader.pos, reader.pos + 8)).toString('hex')
      break
    case 2:
      value = Buffer.from(reader.bytes()).toString('base64')
      break
    case 5:
      value = reader.fixed32()
      break
    default:
      value = Buffer.from(raw.subarray(reader.pos)).toString('base64')
  }
  return { field, wireType, value }
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true })
  else target[key] = value
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
}

function mismatch(path: string, expected: string, value: unknown): EncodeError {
  const shown = JSON.stringify(value) ?? String(value)
  return new EncodeError(`${path}: expected ${expected}, got ${shown.length > 60 ? `${shown.slice(0, 57)}…` : shown}`, {
    code: 'PROTOBUF_ENCODE_MISMATCH',
    where: { path },
  })
}

/**
 * JSON → the plain object protobufjs's `fromObject` takes, checked against the message type
 * (exit 5 naming the path: an unknown field, a wrong type, an integer out of range).
 */
export function jsonToObject(type: protobuf.Type, json: unknown, path = '$'): unknown {
  if (PROTOJSON_TYPES.has(type.fullName)) {
    try {
      return protojson.fromJson(type, json)
    } catch (error) {
      throw mismatch(path, `${type.fullName.slice(1)} in its JSON form (${(error as Error).message})`, json)
    }
  }
  if (WRAPPERS.has(type.fullName)) return { value: scalarFromJson(type.fields.value.resolve(), json, path) }
  if (type.fullName === '.google.protobuf.Any') return anyFromJson(type, json, path)
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw mismatch(path, `an object (message ${type.fullName.slice(1)})`, json)
  }
  const byName = new Map<string, protobuf.Field>()
  for (const field of type.fieldsArray) {
    byName.set(field.name, field)
    byName.set(protobuf.util.camelCase(field.name), field)
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(json)) {
    const field = byName.get(key)
    const at = `${path}.${key}`
    if (!field) {
      throw new EncodeError(
        `${at}: unknown field (message ${type.fullName.slice(1)} has ${type.fieldsArray.map((f) => f.name).join(', ') || 'no fields'})`,
        { code: 'PROTOBUF_UNKNOWN_FIELD', where: { path: at } },
      )
    }
    field.resolve()
    if (value === null) continue
    if (field.map) {
      if (typeof value !== 'object' || Array.isArray(value)) throw mismatch(at, 'an object (map)', value)
      const entries: Record<string, unknown> = {}
      for (const [k, item] of Object.entries(value))
        define(entries, k, singularFromJson(field, item, `${at}[${JSON.stringify(k)}]`))
      out[field.name] = entries
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw mismatch(at, 'an array', value)
      out[field.name] = value.map((item, i) => singularFromJson(field, item, `${at}[${i}]`))
    } else {
      out[field.name] = singularFromJson(field, value, at)
    }
  }
  return out
}

function singularFromJson(field: protobuf.Field, value: unknown, path: string): unknown {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Type) return jsonToObject(resolved, value, path)
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && value in resolved.values) return value
    if (typeof value === 'number' && Number.isInteger(value)) return value
    throw mismatch(path, `one of ${Object.keys(resolved.values).join(', ')} (enum ${resolved.name})`, value)
  }
  return scalarFromJson(field, value, path)
}

function scalarFromJson(field: protobuf.Field, value: unknown, path: string): unknown {
  const range = INT_RANGES[field.type]
  if (range) {
    const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value
    if (typeof text !== 'string' || !/^-?\d+$/.test(text)) throw mismatch(path, `${field.type} (an integer)`, value)
    const big = BigInt(text)
    if (big < range[0] || big > range[1]) throw mismatch(path, `${field.type} (from ${range[0]} to ${range[1]})`, value)
    return LONG_TYPES.has(field.type) ? text : Number(text)
  }
  switch (field.type) {
    case 'double':
    case 'float':
      if (typeof value === 'number') return value
      if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value)
      throw mismatch(path, `${field.type} (a number)`, value)
    case 'bool':
      if (typeof value === 'boolean') return value
      throw mismatch(path, 'bool (true or false)', value)
    case 'string':
      if (typeof value === 'string') return value
      throw mismatch(path, 'string', value)
    case 'bytes':
      if (typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) return Buffer.from(value, 'base64')
      throw mismatch(path, 'bytes (base64 text)', value)
    default:
      return value
  }
}

function anyFromJson(type: protobuf.Type, json: unknown, path: string): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw mismatch(path, 'an object (Any)', json)
  const { '@type': url, ...rest } = json as Record<string, unknown>
  if (typeof url !== 'string') throw mismatch(`${path}["@type"]`, 'a type URL', url)
  const inner = lookupType(type.root as protobuf.Root, url.slice(url.lastIndexOf('/') + 1))
  if (!inner) {
    throw new EncodeError(`${path}["@type"]: unknown message type ${url}`, {
      code: 'PROTOBUF_UNKNOWN_TYPE',
      where: { path },
    })
  }
  const body = PROTOJSON_TYPES.has(inner.fullName) || WRAPPERS.has(inner.fullName) ? rest.value : rest
  const message = inner.fromObject(jsonToObject(inner, body, path) as Record<string, unknown>)
  return { type_url: url, value: inner.encode(message).finish() }
}
