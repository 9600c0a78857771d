/**
 * Avro binary encoding of values in the form value-mapping.ts describes (what the reader yields),
 * validating as it goes: a value that does not fit fails with an `EncodeError` naming the path
 * (`$.items[2].count: expected int, got "3"`). Used to write commands, so clarity beats speed.
 * Record fields that are missing take the schema default, or null when the field's union allows
 * it; unknown extra properties are ignored, as Avro's own writers do.
 */
import { EncodeError } from '../codec-errors.js'
import type { AvroField, AvroType } from './schema.js'
import { isUnwrappedUnion, type JsonKind, jsonKindOf, unionBranchName } from './value-mapping.js'

/** A growable output buffer. */
export class BinaryOutput {
  buf: Buffer
  pos = 0

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + bytes) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
  }

  byte(b: number): void {
    this.ensure(1)
    this.buf[this.pos++] = b
  }

  bytes(source: Uint8Array): void {
    this.ensure(source.length)
    this.buf.set(source, this.pos)
    this.pos += source.length
  }

  /** Unsigned varint of a 64-bit value (already zig-zagged). */
  varint(n: bigint): void {
    let rest = n
    while (rest >= 0x80n) {
      this.byte(Number(rest & 0x7fn) | 0x80)
      rest >>= 7n
    }
    this.byte(Number(rest))
  }

  long(value: bigint): void {
    this.varint(BigInt.asUintN(64, (value << 1n) ^ (value >> 63n)))
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos)
  }
}

export type WriteFn = (out: BinaryOutput, value: unknown, path: string) => void

const INT_MIN = -2147483648
const INT_MAX = 2147483647
const LONG_MIN = -(2n ** 63n)
const LONG_MAX = 2n ** 63n - 1n

function mismatch(path: string, expected: string, value: unknown): EncodeError {
  return new EncodeError(`${path}: expected ${expected}, got ${describeValue(value)}`, {
    code: 'AVRO_ENCODE_MISMATCH',
    where: { path },
  })
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (Buffer.isBuffer(value)) return `${value.length} bytes`
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  const text = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

/** The JavaScript kind of a value, as unions see it. */
function kindOfValue(value: unknown): JsonKind | undefined {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return 'boolean'
  if (typeof value === 'number' || typeof value === 'bigint') return 'number'
  if (typeof value === 'string' || value instanceof Uint8Array) return 'string'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return 'object'
  return undefined
}

function toLong(value: unknown, path: string): bigint {
  let n: bigint
  if (typeof value === 'bigint') n = value
  else if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value)
  // Longs beyond 2^53 are read as decimal text; accept that form back.
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = BigInt(value)
  else throw mismatch(path, 'long (an integer)', value)
  if (n < LONG_MIN || n > LONG_MAX) throw mismatch(path, 'long (64-bit)', value)
  return n
}

function toBytes(value: unknown, path: string, expected: string): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw mismatch(path, `${expected} (base64 text)`, value)
    return Buffer.from(value, 'base64')
  }
  throw mismatch(path, `${expected} (base64 text or a Buffer)`, value)
}

function writeUtf8(out: BinaryOutput, text: string): void {
  const length = Buffer.byteLength(text, 'utf8')
  out.long(BigInt(length))
  out.ensure(length)
  out.pos += out.buf.write(text, out.pos, 'utf8')
}

export function compileWriter(type: AvroType): WriteFn {
  return new WriterCompiler().compile(type)
}

class WriterCompiler {
  private readonly named = new Map<string, WriteFn>()

  compile(type: AvroType): WriteFn {
    switch (type.type) {
      case 'null':
        return (_out, value, path) => {
          if (value !== null && value !== undefined) throw mismatch(path, 'null', value)
        }
      case 'boolean':
        return (out, value, path) => {
          if (typeof value !== 'boolean') throw mismatch(path, 'boolean', value)
          out.byte(value ? 1 : 0)
        }
      case 'int':
        return (out, value, path) => {
          if (typeof value !== 'number' || !Number.isInteger(value) || value < INT_MIN || value > INT_MAX) {
            throw mismatch(path, 'int (a 32-bit integer)', value)
          }
          out.long(BigInt(value))
        }
      case 'long':
        return (out, value, path) => out.long(toLong(value, path))
      case 'float':
        return (out, value, path) => {
          if (typeof value !== 'number') throw mismatch(path, 'float (a number)', value)
          out.ensure(4)
          out.pos = out.buf.writeFloatLE(value, out.pos)
        }
      case 'double':
        return (out, value, path) => {
          if (typeof value !== 'number') throw mismatch(path, 'double (a number)', value)
          out.ensure(8)
          out.pos = out.buf.writeDoubleLE(value, out.pos)
        }
      case 'string':
        return (out, value, path) => {
          if (typeof value !== 'string') throw mismatch(path, 'string', value)
          writeUtf8(out, value)
        }
      case 'bytes':
        return (out, value, path) => {
          const bytes = toBytes(value, path, 'bytes')
          out.long(BigInt(bytes.length))
          out.bytes(bytes)
        }
      case 'fixed':
        return (out, value, path) => {
          const bytes = toBytes(value, path, `fixed ${type.name}`)
          if (bytes.length !== type.size) throw mismatch(path, `${type.size} bytes for ${type.name}`, value)
          out.bytes(bytes)
        }
      case 'enum':
        return (out, value, path) => {
          const index = typeof value === 'string' ? type.symbols.indexOf(value) : -1
          if (index < 0) throw mismatch(path, `one of ${type.symbols.join(', ')} (enum ${type.name})`, value)
          out.long(BigInt(index))
        }
      case 'array': {
        const writeItem = this.compile(type.items)
        return (out, value, path) => {
          if (!Array.isArray(value)) throw mismatch(path, 'an array', value)
          if (value.length > 0) {
            out.long(BigInt(value.length))
            for (let i = 0; i < value.length; i++) writeItem(out, value[i], `${path}[${i}]`)
          }
          out.byte(0)
        }
      }
      case 'map': {
        const writeValue = this.compile(type.values)
        return (out, value, path) => {
          if (!isPlainObject(value)) throw mismatch(path, 'an object (Avro map)', value)
          const keys = Object.keys(value)
          if (keys.length > 0) {
            out.long(BigInt(keys.length))
            for (const key of keys) {
              writeUtf8(out, key)
              writeValue(out, value[key], childPath(path, key))
            }
          }
          out.byte(0)
        }
      }
      case 'union':
        return this.union(type.branches)
      case 'record':
        return this.record(type)
    }
  }

  private union(branches: readonly AvroType[]): WriteFn {
    const writers = branches.map((branch) => this.compile(branch))
    const names = branches.map(unionBranchName)
    const nullIndex = branches.findIndex((branch) => branch.type === 'null')
    const describe = `[${names.join(', ')}]`
    const branchByKind = new Map<JsonKind, number>()
    branches.forEach((branch, i) => {
      const kind = jsonKindOf(branch)
      if (!branchByKind.has(kind)) branchByKind.set(kind, i)
    })
    const longIndex = branches.findIndex((branch) => branch.type === 'long')
    const unwrapped = isUnwrappedUnion(branches)
    const writeBranch = (out: BinaryOutput, index: number, value: unknown, path: string) => {
      out.long(BigInt(index))
      writers[index](out, value, path)
    }
    return (out, value, path) => {
      if ((value === null || value === undefined) && nullIndex >= 0) return writeBranch(out, nullIndex, null, path)
      if (unwrapped) {
        const kind = kindOfValue(value)
        let index = kind === undefined ? undefined : branchByKind.get(kind)
        // A long beyond 2^53 reads as decimal text: send it back to the long branch.
        if (index === undefined && kind === 'string' && longIndex >= 0 && /^-?\d+$/.test(value as string)) {
          index = longIndex
        }
        if (index === undefined) throw mismatch(path, `a value for union ${describe}`, value)
        return writeBranch(out, index, value, path)
      }
      // Branches share a kind: the value names its branch, `{"full.Name": value}`.
      if (isPlainObject(value)) {
        const keys = Object.keys(value)
        const index = keys.length === 1 ? names.indexOf(keys[0]) : -1
        if (index >= 0) return writeBranch(out, index, value[keys[0]], childPath(path, keys[0]))
      }
      throw mismatch(path, `one of ${describe} written as {"<branch>": value}`, value)
    }
  }

  private record(type: Extract<AvroType, { type: 'record' }>): WriteFn {
    const existing = this.named.get(type.name)
    if (existing) return existing
    let compiled: WriteFn | undefined
    this.named.set(type.name, (out, value, path) => (compiled as WriteFn)(out, value, path))
    const fields = type.fields.map((field) => ({
      name: field.name,
      write: this.compile(field.type),
      missing: missingFieldValue(field),
    }))
    compiled = (out, value, path) => {
      if (!isPlainObject(value)) throw mismatch(path, `an object (record ${type.name})`, value)
      for (const field of fields) {
        const fieldPath = childPath(path, field.name)
        let fieldValue = Object.hasOwn(value, field.name) ? value[field.name] : undefined
        if (fieldValue === undefined) {
          const fallback = field.missing()
          if (fallback === NO_VALUE) {
            throw new EncodeError(`${fieldPath}: missing (record ${type.name} requires field "${field.name}")`, {
              code: 'AVRO_ENCODE_MISSING_FIELD',
              where: { path: fieldPath },
            })
          }
          fieldValue = fallback
        }
        field.write(out, fieldValue, fieldPath)
      }
    }
    this.named.set(type.name, compiled)
    return compiled
  }
}

const NO_VALUE = Symbol('no value')

/** What a missing field is written as: its default, null if its union allows it, else nothing. */
function missingFieldValue(field: AvroField): () => unknown {
  let cached: { value: unknown } | undefined
  return () => {
    if (!cached) {
      if (field.hasDefault) cached = { value: defaultToValue(field.type, field.default) }
      else if (field.type.type === 'null') cached = { value: null }
      else if (field.type.type === 'union' && field.type.branches.some((b) => b.type === 'null')) {
        cached = { value: null }
      } else cached = { value: NO_VALUE }
    }
    return cached.value
  }
}

/**
 * A schema default (Avro's JSON form: bytes as ISO-8859-1 text, a union's default for its first
 * branch) in the value form the writer takes.
 */
export function defaultToValue(type: AvroType, json: unknown): unknown {
  switch (type.type) {
    case 'bytes':
    case 'fixed':
      return typeof json === 'string' ? Buffer.from(json, 'latin1').toString('base64') : json
    case 'array':
      return Array.isArray(json) ? json.map((item) => defaultToValue(type.items, item)) : json
    case 'map':
      return isPlainObject(json)
        ? Object.fromEntries(Object.entries(json).map(([k, v]) => [k, defaultToValue(type.values, v)]))
        : json
    case 'record': {
      if (!isPlainObject(json)) return json
      const out: Record<string, unknown> = {}
      for (const field of type.fields) {
        if (json[field.name] !== undefined) out[field.name] = defaultToValue(field.type, json[field.name])
        else if (field.hasDefault) out[field.name] = defaultToValue(field.type, field.default)
      }
      return out
    }
    case 'union': {
      const first = type.branches[0]
      const value = defaultToValue(first, json)
      if (first.type === 'null' || isUnwrappedUnion(type.branches)) return value
      return { [unionBranchName(first)]: value }
    }
    default:
      return json
  }
}
