/**
 * Avro binary decoding, compiled once per schema into a tree of small closures (records into one
 * generated function each, so a record is one object literal with a stable shape). Values follow
 * value-mapping.ts. Reads do not bounds-check every byte: past the end a Buffer yields
 * `undefined`, which ends varints, and the final position tells a truncated datum; lengths and
 * fixed-size reads are checked before they slice.
 */
import { DecodeError } from '../codec-errors.js'
import type { AvroType } from './schema.js'
import { isUnwrappedUnion, unionBranchName } from './value-mapping.js'

/** The cursor a compiled reader advances. One per compiled schema, reused across records. */
export interface BinaryCursor {
  buf: Buffer
  pos: number
}

export type ReadFn = (cursor: BinaryCursor) => unknown

export function truncated(): DecodeError {
  return new DecodeError('truncated Avro datum', { code: 'AVRO_TRUNCATED' })
}

function invalid(reason: string): DecodeError {
  return new DecodeError(`invalid Avro datum: ${reason}`, { code: 'AVRO_INVALID' })
}

/** Zig-zag varint int (at most 5 bytes). */
export function readInt(c: BinaryCursor): number {
  const buf = c.buf
  let pos = c.pos
  let b = buf[pos++]
  let n = b & 0x7f
  if (b >= 0x80) {
    b = buf[pos++]
    n |= (b & 0x7f) << 7
    if (b >= 0x80) {
      b = buf[pos++]
      n |= (b & 0x7f) << 14
      if (b >= 0x80) {
        b = buf[pos++]
        n |= (b & 0x7f) << 21
        if (b >= 0x80) {
          b = buf[pos++]
          n |= (b & 0x7f) << 28
          if (b >= 0x80) throw invalid('int varint longer than 5 bytes')
        }
      }
    }
  }
  c.pos = pos
  return (n >>> 1) ^ -(n & 1)
}

/**
 * Zig-zag varint long (at most 10 bytes): up to 7 bytes (49 bits) are summed exactly in a double;
 * longer ones go through BigInt and come back as a number when safe, else as decimal text.
 */
export function readLong(c: BinaryCursor): number | string {
  const buf = c.buf
  let pos = c.pos
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
    if (b >= 0x80) return readBigLong(c)
  }
  c.pos = pos
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2
}

function readBigLong(c: BinaryCursor): number | string {
  const buf = c.buf
  let pos = c.pos
  let n = 0n
  let shift = 0n
  for (let i = 0; ; i++) {
    if (i === 10) throw invalid('long varint longer than 10 bytes')
    const b = buf[pos++]
    if (b === undefined) throw truncated()
    n |= BigInt(b & 0x7f) << shift
    shift += 7n
    if (b < 0x80) break
  }
  c.pos = pos
  n = BigInt.asUintN(64, n)
  const value = BigInt.asIntN(64, (n >> 1n) ^ -(n & 1n))
  const asNumber = Number(value)
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString()
}

/** A long used as a count or length: must be a safe integer. */
function readLength(c: BinaryCursor): number {
  const n = readLong(c)
  if (typeof n !== 'number') throw invalid(`length ${n} is too large`)
  return n
}

function readByteLength(c: BinaryCursor): number {
  const length = readLength(c)
  if (length < 0) throw invalid(`negative length ${length}`)
  if (c.pos + length > c.buf.length) throw truncated()
  return length
}

function readString(c: BinaryCursor): string {
  const length = readByteLength(c)
  const start = c.pos
  c.pos = start + length
  return c.buf.toString('utf8', start, c.pos)
}

function readBytes(c: BinaryCursor): string {
  const length = readByteLength(c)
  const start = c.pos
  c.pos = start + length
  return c.buf.toString('base64', start, c.pos)
}

function readBoolean(c: BinaryCursor): boolean {
  const b = c.buf[c.pos++]
  if (b === 0) return false
  if (b === 1) return true
  if (b === undefined) throw truncated()
  throw invalid(`boolean byte ${b}`)
}

function readFloat(c: BinaryCursor): number {
  const pos = c.pos
  if (pos + 4 > c.buf.length) throw truncated()
  c.pos = pos + 4
  return c.buf.readFloatLE(pos)
}

function readDouble(c: BinaryCursor): number {
  const pos = c.pos
  if (pos + 8 > c.buf.length) throw truncated()
  c.pos = pos + 8
  return c.buf.readDoubleLE(pos)
}

const readNull: ReadFn = () => null

/** Sets a property even when the key is `__proto__` (map keys and Avro names can be). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/** The fewest bytes a value of this type takes; 0 for null and all-null records. */
function minimumSize(type: AvroType, seen = new Set<AvroType>()): number {
  switch (type.type) {
    case 'null':
      return 0
    case 'fixed':
      return type.size
    case 'float':
      return 4
    case 'double':
      return 8
    case 'record': {
      if (seen.has(type)) return 0 // recursion: be conservative
      seen.add(type)
      return type.fields.reduce((sum, field) => sum + minimumSize(field.type, seen), 0)
    }
    default:
      return 1
  }
}

/** Compiles a reader for a (possibly recursive) type graph. */
export function compileReader(type: AvroType): ReadFn {
  return new ReaderCompiler().compile(type)
}

class ReaderCompiler {
  private readonly named = new Map<string, ReadFn>()

  compile(type: AvroType): ReadFn {
    switch (type.type) {
      case 'null':
        return readNull
      case 'boolean':
        return readBoolean
      case 'int':
        return readInt
      case 'long':
        return readLong
      case 'float':
        return readFloat
      case 'double':
        return readDouble
      case 'bytes':
        return readBytes
      case 'string':
        return readString
      case 'fixed': {
        const size = type.size
        return (c) => {
          const start = c.pos
          if (start + size > c.buf.length) throw truncated()
          c.pos = start + size
          return c.buf.toString('base64', start, c.pos)
        }
      }
      case 'enum': {
        const symbols = type.symbols
        return (c) => {
          const index = readInt(c)
          const symbol = symbols[index]
          if (symbol === undefined) throw invalid(`enum ${type.name} has no symbol #${index}`)
          return symbol
        }
      }
      case 'array':
        return this.array(type.items)
      case 'map':
        return this.map(type.values)
      case 'union':
        return this.union(type.branches)
      case 'record':
        return this.record(type)
    }
  }

  private array(itemType: AvroType): ReadFn {
    const readItem = this.compile(itemType)
    const itemSize = minimumSize(itemType)
    return (c) => {
      const items: unknown[] = []
      for (;;) {
        let count = readLength(c)
        if (count === 0) break
        if (count < 0) {
          count = -count
          readLength(c) // block size in bytes, only useful for skipping
        }
        checkBlockCount(c, count, itemSize)
        for (let i = 0; i < count; i++) items.push(readItem(c))
      }
      return items
    }
  }

  private map(valueType: AvroType): ReadFn {
    const readValue = this.compile(valueType)
    // Each entry holds at least its key's length byte.
    const entrySize = 1 + minimumSize(valueType)
    return (c) => {
      const entries: Record<string, unknown> = {}
      for (;;) {
        let count = readLength(c)
        if (count === 0) break
        if (count < 0) {
          count = -count
          readLength(c)
        }
        checkBlockCount(c, count, entrySize)
        for (let i = 0; i < count; i++) {
          const key = readString(c)
          setOwn(entries, key, readValue(c))
        }
      }
      return entries
    }
  }

  private union(branches: readonly AvroType[]): ReadFn {
    const readers = branches.map((branch) => this.compile(branch))
    const describe = () => `[${branches.map(unionBranchName).join(', ')}]`
    if (isUnwrappedUnion(branches)) {
      return (c) => {
        const index = readInt(c)
        const read = readers[index]
        if (read === undefined) throw invalid(`union ${describe()} has no branch #${index}`)
        return read(c)
      }
    }
    const names = branches.map(unionBranchName)
    return (c) => {
      const index = readInt(c)
      const read = readers[index]
      if (read === undefined) throw invalid(`union ${describe()} has no branch #${index}`)
      if (branches[index].type === 'null') return null
      const wrapped: Record<string, unknown> = {}
      setOwn(wrapped, names[index], read(c))
      return wrapped
    }
  }

  private record(type: Extract<AvroType, { type: 'record' }>): ReadFn {
    const existing = this.named.get(type.name)
    if (existing) return existing
    // Registered before compiling fields so a recursive field finds it; the indirection is
    // replaced by the generated reader once it exists.
    let compiled: ReadFn | undefined
    const indirect: ReadFn = (c) => (compiled as ReadFn)(c)
    this.named.set(type.name, indirect)
    const fieldReaders = type.fields.map((field) => this.compile(field.type))
    // One object literal per record: V8 gives every decoded record the same hidden class.
    // Field names are Avro names ([A-Za-z_][A-Za-z0-9_]*), emitted as JSON string literals; a
    // field called __proto__ needs a computed key to become an own property.
    const properties = type.fields.map((field, i) => {
      const key = JSON.stringify(field.name)
      return `${field.name === '__proto__' ? `[${key}]` : key}: f[${i}](c)`
    })
    compiled = new Function('f', `return function read(c) { return { ${properties.join(', ')} } }`)(
      fieldReaders,
    ) as ReadFn
    this.named.set(type.name, compiled)
    return compiled
  }
}

/** A corrupt count could ask for billions of items: refuse counts the remaining bytes cannot hold. */
function checkBlockCount(c: BinaryCursor, count: number, minimumItemSize: number): void {
  const remaining = c.buf.length - c.pos
  if (minimumItemSize > 0 ? count * minimumItemSize > remaining : count > 10_000_000) {
    if (minimumItemSize > 0) throw truncated()
    throw invalid(`block of ${count} items`)
  }
}
