/**
 * Avro schemas compiled by avsc, with what es needs on top, given to avsc through its own hooks
 * (`typeHook`, `logicalTypes`):
 *   - longs beyond 2^53: read as a number when safe, else as decimal text; written from a number,
 *     decimal text or a bigint (avsc's own long refuses unsafe values);
 *   - arrays and maps whose declared item counts cannot exceed what the bytes can hold, so a
 *     corrupt count of 2^60 is an error, not a loop that allocates until the heap is gone;
 *   - unions unwrapped exactly when their branches differ in JSON kind (value-mapping.ts), so
 *     bytes and strings, or two records, are written `{"branch": value}`;
 *   - `decimal` as its decimal text ("12.34"): exact, and readable by a person.
 * avsc's internal methods (`_read`, `_write`, `_check`) are the ones its own types override.
 */
import avsc from 'avsc'

interface Tap {
  buf: Buffer
  pos: number
  readLong(): number
  writeLong(n: number): void
  writeFixed(buf: Buffer, len?: number): void
  readString(): string
  isValid(): boolean
}

type CheckHook = (value: unknown, type: avsc.Type) => void

/** The JSON kind of an Avro type's values (es's mapping; see value-mapping.ts). */
export type JsonKind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object'

export function jsonKindOf(type: avsc.Type): JsonKind {
  if (type instanceof DecimalType) return 'string'
  switch (type.typeName) {
    case 'null':
      return 'null'
    case 'boolean':
      return 'boolean'
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number'
    case 'array':
      return 'array'
    case 'map':
    case 'record':
    case 'error':
      return 'object'
    default:
      // string, enum, bytes, fixed; other logical types by their underlying type
      if (type instanceof avsc.types.LogicalType) return jsonKindOf(type.underlyingType)
      return 'string'
  }
}

const TWO_63 = 2n ** 63n

/** A long as a number when it is a safe integer, else as decimal text: no precision lost. */
class SafeLongType extends avsc.types.LongType {
  _read(tap: Tap): number | string {
    const buf = tap.buf
    let pos = tap.pos
    let b = buf[pos++]
    let n = b & 0x7f
    if (b >= 0x80) {
      let scale = 128
      let bytes = 1
      do {
        b = buf[pos++]
        n += (b & 0x7f) * scale
        scale *= 128
        bytes++
      } while (b >= 0x80 && bytes < 7)
      if (b >= 0x80) return readBigLong(tap)
    }
    tap.pos = pos
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2
  }

  _write(tap: Tap, value: unknown): void {
    // avsc's writeLong doubles the value in floating point: exact below 2^52 only.
    if (typeof value === 'number' && Math.abs(value) < 2 ** 52 && Number.isInteger(value)) {
      tap.writeLong(value)
      return
    }
    const big = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : toBigLong(value)
    if (big === undefined) throw new Error(`invalid long: ${String(value)}`)
    let zigzag = BigInt.asUintN(64, (big << 1n) ^ (big >> 63n))
    const bytes: number[] = []
    do {
      let byte = Number(zigzag & 0x7fn)
      zigzag >>= 7n
      if (zigzag > 0n) byte |= 0x80
      bytes.push(byte)
    } while (zigzag > 0n)
    tap.writeFixed(Buffer.from(bytes))
  }

  _check(value: unknown, _flags: unknown, hook?: CheckHook): boolean {
    const valid = (typeof value === 'number' && Number.isSafeInteger(value)) || toBigLong(value) !== undefined
    if (!valid && hook) hook(value, this)
    return valid
  }
}

function readBigLong(tap: Tap): number | string {
  const buf = tap.buf
  let pos = tap.pos
  let n = 0n
  let shift = 0n
  for (let i = 0; ; i++) {
    if (i === 10) throw new Error('long varint longer than 10 bytes')
    const b = buf[pos++]
    if (b === undefined) {
      tap.pos = buf.length + 1 // truncated
      return 0
    }
    n |= BigInt(b & 0x7f) << shift
    shift += 7n
    if (b < 0x80) break
  }
  tap.pos = pos
  n = BigInt.asUintN(64, n)
  const value = BigInt.asIntN(64, (n >> 1n) ^ -(n & 1n))
  const asNumber = Number(value)
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString()
}

function toBigLong(value: unknown): bigint | undefined {
  let big: bigint
  if (typeof value === 'bigint') big = value
  else if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) big = BigInt(value)
  else return undefined
  return big >= -TWO_63 && big < TWO_63 ? big : undefined
}

/**
 * The smallest number of bytes one value of a type takes: a declared count of items is bounded
 * by the bytes left divided by this (zero-size items, e.g. nulls, by MAX_EMPTY_ITEMS).
 */
function minimumSize(type: avsc.Type, seen = new Set<avsc.Type>()): number {
  if (seen.has(type)) return 1
  switch (type.typeName) {
    case 'null':
      return 0
    case 'fixed':
      return (type as avsc.types.FixedType).size
    case 'record':
    case 'error': {
      seen.add(type)
      let size = 0
      for (const field of (type as avsc.types.RecordType).fields) size += minimumSize(field.type, seen)
      seen.delete(type)
      return size
    }
    default:
      if (type instanceof avsc.types.LogicalType) return minimumSize(type.underlyingType, seen)
      return 1
  }
}

/** At most this many zero-size items (nulls, empty records) in one array or map. */
export const MAX_EMPTY_ITEMS = 1_000_000

/** A block count that the bytes left cannot hold is corrupt: fail before allocating for it. */
function checkCount(tap: Tap, count: number, itemSize: number, total: number): void {
  const left = tap.buf.length - tap.pos
  const bound = itemSize === 0 ? MAX_EMPTY_ITEMS : Math.floor(left / itemSize)
  if (count > bound || total + count > Math.max(bound, MAX_EMPTY_ITEMS)) {
    throw new Error(`a block of ${count} items cannot fit in the ${left} bytes left`)
  }
}

/** Minimum item sizes by array or map type (avsc freezes its types, so not a property). */
const itemSizes = new WeakMap<avsc.Type, number>()

function itemSizeOf(type: avsc.Type, items: avsc.Type, extra: number): number {
  let size = itemSizes.get(type)
  if (size === undefined) {
    size = extra + minimumSize(items)
    itemSizes.set(type, size)
  }
  return size
}

class BoundedArrayType extends avsc.types.ArrayType {
  _read(tap: Tap): unknown[] {
    const items = this.itemsType as unknown as { _read(tap: Tap): unknown }
    const itemSize = itemSizeOf(this, this.itemsType, 0)
    const values: unknown[] = []
    let count = tap.readLong()
    while (count !== 0) {
      if (count < 0) {
        count = -count
        tap.readLong() // the block's size in bytes
      }
      checkCount(tap, count, itemSize, values.length)
      for (let i = 0; i < count; i++) {
        const before = tap.pos
        values.push(items._read(tap))
        if (tap.pos < before) throw new Error('negative length')
      }
      count = tap.readLong()
    }
    return values
  }
}

class BoundedMapType extends avsc.types.MapType {
  _read(tap: Tap): Record<string, unknown> {
    const values = this.valuesType as { _read(tap: Tap): unknown }
    const itemSize = itemSizeOf(this, this.valuesType, 1)
    const map: Record<string, unknown> = {}
    let total = 0
    let count = tap.readLong()
    while (count !== 0) {
      if (count < 0) {
        count = -count
        tap.readLong()
      }
      checkCount(tap, count, itemSize, total)
      total += count
      for (let i = 0; i < count; i++) {
        const before = tap.pos
        const key = tap.readString()
        const value = values._read(tap)
        if (tap.pos < before) throw new Error('negative length')
        // `map[key] = …` would set the prototype for the key "__proto__".
        if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true })
        else map[key] = value
      }
      count = tap.readLong()
    }
    return map
  }
}

/** `decimal` (bytes or fixed): the unscaled two's-complement integer, shown as decimal text. */
class DecimalType extends avsc.types.LogicalType {
  readonly scale: number
  readonly precision: number

  constructor(schema: avsc.Schema, opts?: unknown) {
    super(schema, opts)
    const { precision, scale = 0 } = schema as { precision?: unknown; scale?: unknown }
    if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1) {
      throw new Error('decimal needs a positive integer "precision"')
    }
    if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error('decimal "scale" must be an integer from 0 to its precision')
    }
    this.precision = precision
    this.scale = scale
  }

  protected override _fromValue(bytes: Buffer): string {
    if (bytes.length === 0) return '0'
    let unscaled = BigInt.asIntN(bytes.length * 8, BigInt(`0x${bytes.toString('hex')}`))
    const negative = unscaled < 0n
    if (negative) unscaled = -unscaled
    let digits = unscaled.toString()
    if (this.scale > 0) {
      digits = digits.padStart(this.scale + 1, '0')
      digits = `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`
    }
    return negative ? `-${digits}` : digits
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value
    if (typeof text !== 'string') return undefined
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim())
    if (!match || (match[3] ?? '').length > this.scale) return undefined
    const unscaled = BigInt(`${match[1]}${match[2]}${(match[3] ?? '').padEnd(this.scale, '0')}`)
    if ((unscaled < 0n ? -unscaled : unscaled).toString().length > this.precision) return undefined
    const underlying = this.underlyingType as avsc.Type & { size?: number }
    let size = underlying.size
    if (size === undefined) {
      size = 1
      while (unscaled >= 2n ** BigInt(size * 8 - 1) || unscaled < -(2n ** BigInt(size * 8 - 1))) size++
    }
    const hex = BigInt.asUintN(size * 8, unscaled)
      .toString(16)
      .padStart(size * 2, '0')
    return hex.length > size * 2 ? undefined : Buffer.from(hex, 'hex')
  }

  protected override _resolve(type: avsc.Type): ((value: unknown) => unknown) | undefined {
    if (type instanceof DecimalType && type.scale === this.scale) return (value) => value
    return undefined
  }
}

/** The JSON kind of a value to write (Buffers are bytes: "string"; bigints are longs). */
function valueKindOf(value: unknown): JsonKind | undefined {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (Buffer.isBuffer(value)) return 'string'
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'string':
      return typeof value as JsonKind
    case 'bigint':
      return 'number'
    case 'object':
      return 'object'
    default:
      return undefined
  }
}

const kindIndexes = new WeakMap<avsc.Type, Map<JsonKind, number>>()

/**
 * An unwrapped union picks the branch of a value by its JSON kind (es's rule), not by avsc's
 * buckets, so a long branch takes decimal text and bigints, and a bytes branch takes Buffers.
 */
class KindUnionType extends avsc.types.UnwrappedUnionType {
  _getIndex(value: unknown): number | undefined {
    let indexes = kindIndexes.get(this)
    if (!indexes) {
      indexes = new Map(this.types.map((branch, i) => [jsonKindOf(branch), i]))
      kindIndexes.set(this, indexes)
    }
    const kind = valueKindOf(value)
    if (kind === undefined) return undefined
    const index = indexes.get(kind)
    if (index === undefined && kind === 'string' && /^-?\d+$/.test(value as string)) {
      const long = indexes.get('number')
      return long !== undefined && this.types[long].typeName === 'long' ? long : undefined
    }
    return index
  }
}

const SAFE_LONG = new SafeLongType()

function typeHook(schema: avsc.Schema, opts: avsc.ForSchemaOptions): avsc.Type | undefined {
  if (schema === 'long') return SAFE_LONG
  if (Array.isArray(schema)) {
    const branches = schema.map((branch) => avsc.Type.forSchema(branch, opts))
    const kinds = new Set(branches.map(jsonKindOf))
    const Union = kinds.size === branches.length ? KindUnionType : avsc.types.WrappedUnionType
    return new Union(branches as unknown as avsc.Schema, opts)
  }
  if (schema === null || typeof schema !== 'object') return undefined
  const definition = schema as { type?: unknown; logicalType?: unknown }
  if (definition.logicalType === 'decimal') return undefined
  switch (definition.type) {
    case 'long':
      return SAFE_LONG
    case 'array':
      return new BoundedArrayType(schema, opts)
    case 'map':
      return new BoundedMapType(schema, opts)
    default:
      return undefined
  }
}

/** Compiles a parsed schema document; throws avsc's Error for a schema that is not valid Avro. */
export function compileAvscType(document: unknown): avsc.Type {
  return avsc.Type.forSchema(document as avsc.Schema, {
    typeHook,
    logicalTypes: { decimal: DecimalType as unknown as new (schema: avsc.Schema) => avsc.types.LogicalType },
    omitRecordMethods: true,
  })
}

export { DecimalType }
