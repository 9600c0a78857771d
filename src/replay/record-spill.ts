/**
 * The records of one round of a fold in key ranges (fold.ts, rounds): read in log order, written
 * to one file per range of record keys, then read back one range at a time. A range holds every
 * record of its keys in the order they were read, so the events of one aggregate (one key) keep
 * their order; the states a range touches are few enough for memory and neighbours in the state
 * file (ids are stored in key order), which it then reads and writes in one place instead of
 * all over the file.
 *
 * The ranges are chosen from a sample of the round's first keys (quantiles in byte order); the
 * sample waits in a file of its own until then. Keys that grow with time (new aggregates) make the
 * first keys a poor sample: a range that outgrew its share is split when it is drained, by
 * quantiles of a sample of its own keys, until each part is within it (or holds one key only).
 * Files are read back in blocks, so a range of any size is never in memory whole.
 *
 * A file is `size u32 (of the whole record), partition u32, offset f64, timestamp f64, key length
 * i32 (−1: null), value length i32, header count u32`, then key, value and each header as `name
 * length u32, name (UTF-8), value length i32, value` — little-endian, one record after another.
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { KafkaRecord } from '../kafka/record.js'

const FIXED_BYTES = 36
/** Bytes buffered per range file before a write. */
const BUFFER_BYTES = 32 * 1024
/** Bytes read from a file at a time (records are views of these blocks). */
const READ_BYTES = 1024 * 1024
const NO_HEADERS: KafkaRecord['headers'] = Object.freeze({})

export interface RoundShape {
  /** How many ranges to make. */
  ranges: number
  /** Keys sampled before the ranges are fixed (and when a range is split). */
  sample: number
}

export class RecordSpill {
  /** Records added in this round. */
  count = 0
  private boundaries?: Buffer[]
  /** Until the ranges are fixed: the records (in a file of their own) and copies of their keys. */
  private sampled?: RangeFile
  private sampledKeys: Buffer[] = []
  private files: RangeFile[] = []
  private shape: RoundShape = { ranges: 1, sample: 1 }

  /** Removes the directory if the process exits first (Ctrl-C exits at once, with 130). */
  private readonly onExit = () => rmSync(this.dir, { recursive: true, force: true })

  /** `dir`: a directory of its own (created; removed by `close`, or when the process exits). */
  constructor(
    private readonly dir: string,
    private readonly topic: string,
  ) {
    mkdirSync(dir, { recursive: true })
    process.on('exit', this.onExit)
  }

  /** Starts a round (the spill is empty): its records will be split into `shape.ranges` ranges. */
  begin(shape: RoundShape): void {
    this.shape = { ranges: Math.max(1, shape.ranges), sample: Math.max(1, shape.sample) }
  }

  add(record: KafkaRecord): void {
    this.count++
    if (this.boundaries === undefined) {
      // Copies: a record's key is a view of its whole fetch response, which must not stay alive.
      if (record.key !== null) this.sampledKeys.push(Buffer.from(canonicalKey(record.key)))
      this.sampled ??= new RangeFile(join(this.dir, 'sample'))
      this.sampled.write(record)
      if (this.count >= this.shape.sample) this.fixRanges()
      return
    }
    this.files[rangeOf(canonicalOrNull(record.key), this.boundaries)].write(record)
  }

  /**
   * Each range's records in the order they were added, one range at a time (each file is removed
   * once read), in chunks of up to `chunk` records made as they are taken; then the spill is
   * empty, ready for the next round (with ranges sampled anew).
   */
  *drain(chunk = 1024, maxRecords = Number.POSITIVE_INFINITY): Generator<Iterable<KafkaRecord[]>> {
    if (this.boundaries === undefined) this.fixRanges()
    // A stack: the next range on top, the parts of a split range pushed in its place.
    const pending = this.files.reverse()
    this.files = []
    this.boundaries = undefined
    this.count = 0
    while (pending.length > 0) {
      const file = pending.pop()!
      this.files = pending // so that `close` removes what is left if the fold stops
      if (file.count > maxRecords) {
        const parts = this.split(file, Math.ceil((2 * file.count) / maxRecords))
        if (parts !== undefined) {
          pending.push(...parts.reverse())
          continue
        }
      }
      if (file.count > 0) yield file.read(this.topic, chunk, true)
      else file.discard()
    }
    this.files = []
  }

  /** Removes the directory and whatever it still holds. */
  close(): void {
    this.sampled?.discard()
    this.sampled = undefined
    for (const file of this.files) file.discard()
    this.files = []
    rmSync(this.dir, { recursive: true, force: true })
    process.off('exit', this.onExit)
  }

  private fixRanges(): void {
    this.boundaries = chooseBoundaries(this.sampledKeys, this.shape.ranges)
    this.sampledKeys = []
    this.files = Array.from(
      { length: this.boundaries.length + 1 },
      (_, i) => new RangeFile(join(this.dir, `range-${i}`)),
    )
    const sampled = this.sampled
    this.sampled = undefined
    if (sampled === undefined) return
    for (const records of sampled.read(this.topic, 1024, true)) {
      for (const record of records) this.files[rangeOf(canonicalOrNull(record.key), this.boundaries)].write(record)
    }
  }

  /**
   * Splits `file` into about `parts` files by quantiles of a uniform sample of its keys (two passes
   * over it; it is removed). Undefined (and `file` kept) when the sample holds one key only.
   */
  private split(file: RangeFile, parts: number): RangeFile[] | undefined {
    const size = this.shape.sample
    const sample: Buffer[] = []
    let seen = 0
    for (const records of file.read(this.topic, 1024, false)) {
      for (const record of records) {
        if (record.key === null) continue
        seen++
        if (sample.length < size) sample.push(Buffer.from(canonicalKey(record.key)))
        else {
          const slot = Math.floor(Math.random() * seen)
          if (slot < size) sample[slot] = Buffer.from(canonicalKey(record.key))
        }
      }
    }
    const boundaries = chooseBoundaries(sample, parts)
    if (boundaries.length === 0) return undefined
    const split = Array.from({ length: boundaries.length + 1 }, (_, i) => new RangeFile(`${file.path}.${i}`))
    for (const records of file.read(this.topic, 1024, true)) {
      for (const record of records) split[rangeOf(canonicalOrNull(record.key), boundaries)].write(record)
    }
    return split
  }
}

/**
 * `ranges − 1` boundaries (at most: equal ones are merged) splitting `keys` into ranges of similar
 * counts: range i holds keys from boundary i−1 (inclusive) to boundary i (exclusive).
 */
export function chooseBoundaries(keys: Buffer[], ranges: number): Buffer[] {
  if (ranges <= 1 || keys.length === 0) return []
  const sorted = [...keys].sort(Buffer.compare)
  const boundaries: Buffer[] = []
  for (let i = 1; i < ranges; i++) {
    const key = sorted[Math.floor((i * sorted.length) / ranges)]
    if (boundaries.length === 0 || Buffer.compare(boundaries[boundaries.length - 1], key) < 0) boundaries.push(key)
  }
  // A first boundary equal to the smallest key would leave range 0 empty.
  if (boundaries.length > 0 && Buffer.compare(boundaries[0], sorted[0]) === 0) boundaries.shift()
  return boundaries
}

/** The range of a key: the number of boundaries at or below it (null keys: range 0). */
export function rangeOf(key: Buffer | null, boundaries: Buffer[]): number {
  if (key === null) return 0
  let low = 0
  let high = boundaries.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (compareBytes(boundaries[middle], key) <= 0) low = middle + 1
    else high = middle
  }
  return low
}

/**
 * The key as the aggregate id it is read as (UTF-8 text, as the `string` and `bytes` key codecs
 * give it): ASCII as it is; otherwise decoded and encoded again, so that keys that read as one id
 * (an invalid sequence and U+FFFD itself both read as U+FFFD) are one key here, in one range.
 */
export function canonicalKey(key: Buffer): Buffer {
  for (let i = 0; i < key.length; i++) {
    if (key[i] >= 0x80) return Buffer.from(key.toString('utf8'), 'utf8')
  }
  return key
}

function canonicalOrNull(key: Buffer | null): Buffer | null {
  return key === null ? null : canonicalKey(key)
}

/**
 * Byte order, as Buffer.compare: in JavaScript, since keys are short and the call into C++ costs
 * more than the comparison (measured: ≈1.3 s of 3M records through `rangeOf`, ≈0.3 s in JS).
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const difference = a[i] - b[i]
    if (difference !== 0) return difference
  }
  return a.length - b.length
}

/** One range's file: records appended through a buffer, read back in blocks. */
class RangeFile {
  /** Records written. */
  count = 0
  private fd: number | undefined
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES)
  private used = 0

  constructor(readonly path: string) {}

  write(record: KafkaRecord): void {
    this.count++
    const size = recordSize(record)
    if (this.used + size > this.buffer.length) {
      this.flush()
      if (size > this.buffer.length) this.buffer = Buffer.allocUnsafe(size)
    }
    this.used = encodeRecord(record, this.buffer, this.used)
  }

  /**
   * Every record written, in chunks of up to `chunk` (views of blocks read as they are taken);
   * with `remove`, the file is gone once they are all taken.
   */
  *read(topic: string, chunk: number, remove: boolean): Generator<KafkaRecord[]> {
    if (this.fd === undefined) {
      // Never flushed: the records are in the buffer (a copy, since the buffer is reused).
      const bytes = Buffer.from(this.buffer.subarray(0, this.used))
      if (remove) this.used = 0
      yield* chunks(bytes, topic, chunk)
      return
    }
    this.flush()
    const fd = openSync(this.path, 'r')
    try {
      let block = Buffer.allocUnsafe(READ_BYTES)
      let filled = 0
      let position = 0
      for (;;) {
        const read = readSync(fd, block, filled, block.length - filled, position)
        position += read
        filled += read
        const bytes = block.subarray(0, filled)
        let pos = 0
        while (pos < filled) {
          const records: KafkaRecord[] = []
          const next = decodeRecords(bytes, topic, pos, chunk, records)
          if (next === pos) break // the next record is not whole in this block
          pos = next
          yield records
        }
        if (read === 0) {
          if (pos < filled) throw new Error(`${this.path} ends inside a record`)
          break
        }
        // The part of a record at the end starts the next block (grown to hold the record).
        const rest = filled - pos
        const needed = rest >= 4 ? block.readUInt32LE(pos) : 0
        const next = Buffer.allocUnsafe(Math.max(READ_BYTES, needed))
        block.copy(next, 0, pos, filled)
        block = next
        filled = rest
      }
    } finally {
      closeSync(fd)
    }
    if (remove) this.discard()
  }

  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
    rmSync(this.path, { force: true })
  }

  private flush(): void {
    if (this.used === 0) return
    this.fd ??= openSync(this.path, 'w')
    let written = 0
    while (written < this.used) written += writeSync(this.fd, this.buffer, written, this.used - written)
    this.used = 0
  }
}

function recordSize(record: KafkaRecord): number {
  let size = FIXED_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0)
  for (const [name, value] of headerPairs(record)) {
    size += 8 + Buffer.byteLength(name) + (value === null ? 0 : Buffer.byteLength(value))
  }
  return size
}

function headerPairs(record: KafkaRecord): ReadonlyArray<readonly [string, Buffer | string | null]> {
  if (record.headerList !== undefined) return record.headerList
  if (record.headers === NO_HEADERS) return []
  return Object.entries(record.headers).map(([name, value]) => [name, value ?? null] as const)
}

/** Writes `record` at `at`; returns the position after it. */
export function encodeRecord(record: KafkaRecord, out: Buffer, at: number): number {
  const headers = headerPairs(record)
  out.writeUInt32LE(record.partition, at + 4)
  out.writeDoubleLE(record.offset, at + 8)
  out.writeDoubleLE(record.timestamp, at + 16)
  out.writeInt32LE(record.key === null ? -1 : record.key.length, at + 24)
  out.writeInt32LE(record.value === null ? -1 : record.value.length, at + 28)
  out.writeUInt32LE(headers.length, at + 32)
  let pos = at + FIXED_BYTES
  if (record.key !== null) pos += record.key.copy(out, pos)
  if (record.value !== null) pos += record.value.copy(out, pos)
  for (const [name, value] of headers) {
    const nameLength = out.write(name, pos + 4, 'utf8')
    out.writeUInt32LE(nameLength, pos)
    pos += 4 + nameLength
    if (value === null) {
      out.writeInt32LE(-1, pos)
      pos += 4
    } else {
      const length = typeof value === 'string' ? out.write(value, pos + 4, 'utf8') : value.copy(out, pos + 4)
      out.writeInt32LE(length, pos)
      pos += 4 + length
    }
  }
  out.writeUInt32LE(pos - at, at)
  return pos
}

/** The records of `bytes` (decodeRecords) in chunks, each made when it is taken. */
function* chunks(bytes: Buffer, topic: string, size: number): Generator<KafkaRecord[]> {
  let pos = 0
  while (pos < bytes.length) {
    const records: KafkaRecord[] = []
    const next = decodeRecords(bytes, topic, pos, size, records)
    if (next === pos) throw new Error(`a spilled record at byte ${pos} is not whole`)
    pos = next
    yield records
  }
}

/**
 * Up to `limit` records of `bytes` from `start`, shaped as the reader shapes them
 * (record-batch.ts): key and value are views of `bytes`; `headers` (last value per name) and
 * `headerList` only when there are headers. Returns the position after the last one (a record
 * not whole in `bytes` is left for the next call).
 */
export function decodeRecords(
  bytes: Buffer,
  topic: string,
  start: number,
  limit: number,
  records: KafkaRecord[],
): number {
  let pos = start
  const slice = (length: number): Buffer | null => {
    if (length < 0) return null
    const view = bytes.subarray(pos, pos + length)
    pos += length
    return view
  }
  while (pos + 4 <= bytes.length && records.length < limit) {
    if (pos + bytes.readUInt32LE(pos) > bytes.length) break
    const partition = bytes.readUInt32LE(pos + 4)
    const offset = bytes.readDoubleLE(pos + 8)
    const timestamp = bytes.readDoubleLE(pos + 16)
    const keyLength = bytes.readInt32LE(pos + 24)
    const valueLength = bytes.readInt32LE(pos + 28)
    const headerCount = bytes.readUInt32LE(pos + 32)
    pos += FIXED_BYTES
    const key = slice(keyLength)
    const value = slice(valueLength)
    const record: KafkaRecord = { topic, partition, offset, timestamp, key, value, headers: NO_HEADERS }
    if (headerCount > 0) {
      const headers: KafkaRecord['headers'] = {}
      const headerList: Array<readonly [string, Buffer | null]> = []
      for (let h = 0; h < headerCount; h++) {
        const nameLength = bytes.readUInt32LE(pos)
        const name = bytes.toString('utf8', pos + 4, pos + 4 + nameLength)
        pos += 4 + nameLength
        const valueLength = bytes.readInt32LE(pos)
        pos += 4
        const header = slice(valueLength)
        headers[name] = header ?? undefined
        headerList.push([name, header])
      }
      record.headers = headers
      record.headerList = headerList
    }
    records.push(record)
  }
  return pos
}
