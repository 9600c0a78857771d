/**
 * The latest record per key of a log, in bounded memory: raw key and value bytes (never decoded
 * objects) in a map keyed by the key's bytes; when the map passes its bound it is written out as
 * one run sorted by key to a temporary file and cleared. Reading back merges the runs and what is
 * still in memory in key order; of the copies of one key, the newest run's wins (runs are written
 * in log order, so a later run holds a later record). Memory: the bound, plus one read buffer per
 * run; disk: about the bytes read.
 *
 * Key order is the order of the key's bytes (as Kafka and kcat compare keys; for UTF-8 text, code
 * point order). A record without a key (null) is kept as one key of its own, first.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KafkaRecord } from '../kafka/record.js'

/** One stored record: its key and value bytes and where it is in the log. */
export interface StoredRecord {
  /** Null: the record had no key. */
  key: Buffer | null
  /** Null: a tombstone. */
  value: Buffer | null
  /** Index into the topics the store was made for. */
  topic: number
  partition: number
  offset: number
  timestamp: number
}

interface Slot {
  value: Buffer | null
  topic: number
  partition: number
  offset: number
  timestamp: number
  size: number
}

/** Bytes held in memory before a run is written out (the estimate counts keys, values and bookkeeping). */
export const DEFAULT_MEMORY_BOUND = 16 * 1024 * 1024
/** Per-entry bookkeeping (map entry, slot object, buffer headers), estimated. */
const ENTRY_OVERHEAD = 160
/** Run record header: key length, value length (-1: null), topic, partition, offset, timestamp. */
const HEADER = 32
const WRITE_CHUNK = 1 << 20
const READ_CHUNK = 256 * 1024

export class LatestStore {
  /** Keys as latin1 strings: one char per byte, so string order is byte order. */
  private memory = new Map<string, Slot>()
  private noKey?: Slot
  private bytes = 0
  private dir?: string
  private readonly runs: string[] = []
  private readonly bound: number

  constructor(options: { memoryBound?: number } = {}) {
    this.bound = options.memoryBound ?? DEFAULT_MEMORY_BOUND
  }

  /** Keeps `record` as the latest of its key (records of a key must come in log order). */
  put(record: KafkaRecord, topic: number): void {
    // A copy: the record's buffers are slices of a whole fetch response, which they would keep alive.
    const value = record.value === null ? null : Buffer.from(record.value)
    const size = (record.key?.length ?? 0) * 2 + (value?.length ?? 0) + ENTRY_OVERHEAD
    const slot: Slot = {
      value,
      topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      size,
    }
    if (record.key === null) {
      this.noKey = slot
      return
    }
    const key = record.key.toString('latin1')
    const old = this.memory.get(key)
    if (old) this.bytes -= old.size
    this.memory.set(key, slot)
    this.bytes += size
    if (this.bytes > this.bound) this.spill()
  }

  /** Runs written to disk so far (0 while everything fits in memory). */
  get spilledRuns(): number {
    return this.runs.length
  }

  /** Every key's latest record, tombstones included, in key order (the record without a key first). */
  *entries(): IterableIterator<StoredRecord> {
    if (this.noKey) yield { key: null, ...fields(this.noKey) }
    const keys = [...this.memory.keys()].sort()
    if (this.runs.length === 0) {
      for (const key of keys) yield { key: Buffer.from(key, 'latin1'), ...fields(this.memory.get(key)!) }
      return
    }
    const sources: RunSource[] = this.runs.map((file) => new RunReader(file))
    sources.push(new MemoryRun(keys, this.memory))
    try {
      yield* merge(sources)
    } finally {
      for (const source of sources) source.close()
    }
  }

  /** Removes the temporary files. */
  close(): void {
    this.memory = new Map()
    if (this.dir) rmSync(this.dir, { recursive: true, force: true })
    this.dir = undefined
  }

  /** Writes the map as one run sorted by key, and empties it. */
  private spill(): void {
    this.dir ??= mkdtempSync(join(tmpdir(), 'es-snapshots-'))
    const file = join(this.dir, `run-${this.runs.length}`)
    const fd = openSync(file, 'w')
    try {
      let chunk = Buffer.allocUnsafe(WRITE_CHUNK)
      let used = 0
      for (const key of [...this.memory.keys()].sort()) {
        const slot = this.memory.get(key)!
        const keyLength = Buffer.byteLength(key, 'latin1')
        const length = HEADER + keyLength + (slot.value?.length ?? 0)
        if (used + length > chunk.length) {
          writeSync(fd, chunk, 0, used)
          used = 0
          if (length > chunk.length) chunk = Buffer.allocUnsafe(length)
        }
        chunk.writeUInt32LE(keyLength, used)
        chunk.writeInt32LE(slot.value === null ? -1 : slot.value.length, used + 4)
        chunk.writeUInt32LE(slot.topic, used + 8)
        chunk.writeUInt32LE(slot.partition, used + 12)
        chunk.writeDoubleLE(slot.offset, used + 16)
        chunk.writeDoubleLE(slot.timestamp, used + 24)
        chunk.write(key, used + HEADER, 'latin1')
        slot.value?.copy(chunk, used + HEADER + keyLength)
        used += length
      }
      if (used > 0) writeSync(fd, chunk, 0, used)
    } finally {
      closeSync(fd)
    }
    this.runs.push(file)
    this.memory = new Map()
    this.bytes = 0
  }
}

function fields(slot: Slot): Omit<StoredRecord, 'key'> {
  return {
    value: slot.value,
    topic: slot.topic,
    partition: slot.partition,
    offset: slot.offset,
    timestamp: slot.timestamp,
  }
}

/**
 * A sorted source of records; `head` is valid until the next `advance`. Keys are compared as
 * latin1 strings (one char per byte: string order is byte order), without a call into Buffer per
 * comparison; `owned`: the head's value is not a view of a reused read buffer.
 */
interface RunHead extends Omit<StoredRecord, 'key'> {
  keyText: string
}
interface RunSource {
  head: RunHead | undefined
  readonly owned: boolean
  advance(): void
  close(): void
}

class MemoryRun implements RunSource {
  head: RunHead | undefined
  readonly owned = true
  private next = 0

  constructor(
    private readonly keys: string[],
    private readonly memory: Map<string, Slot>,
  ) {
    this.advance()
  }

  advance(): void {
    const key = this.keys[this.next++]
    this.head = key === undefined ? undefined : { keyText: key, ...fields(this.memory.get(key)!) }
  }

  close(): void {}
}

/** A run file read in chunks; the head's buffers are slices of the chunk (copied before yielding). */
class RunReader implements RunSource {
  head: RunHead | undefined
  readonly owned = false
  private readonly fd: number
  private buffer = Buffer.allocUnsafe(READ_CHUNK)
  private start = 0
  private end = 0
  private eof = false

  constructor(file: string) {
    this.fd = openSync(file, 'r')
    this.advance()
  }

  advance(): void {
    if (!this.fill(HEADER)) {
      this.head = undefined
      return
    }
    const b = this.buffer
    const at = this.start
    const keyLength = b.readUInt32LE(at)
    const valueLength = b.readInt32LE(at + 4)
    const length = HEADER + keyLength + Math.max(0, valueLength)
    if (!this.fill(length)) throw new Error('a snapshot run file ends inside a record')
    const s = this.start
    const keyStart = s + HEADER
    this.head = {
      keyText: this.buffer.toString('latin1', keyStart, keyStart + keyLength),
      value: valueLength < 0 ? null : this.buffer.subarray(keyStart + keyLength, keyStart + keyLength + valueLength),
      topic: this.buffer.readUInt32LE(s + 8),
      partition: this.buffer.readUInt32LE(s + 12),
      offset: this.buffer.readDoubleLE(s + 16),
      timestamp: this.buffer.readDoubleLE(s + 24),
    }
    this.start += length
  }

  /** At least `length` unread bytes in the buffer, or false at the end of the file. */
  private fill(length: number): boolean {
    if (this.end - this.start >= length) return true
    if (this.eof && this.end === this.start) return false
    const rest = this.end - this.start
    const target = rest + length > this.buffer.length ? Buffer.allocUnsafe(rest + length + READ_CHUNK) : this.buffer
    this.buffer.copy(target, 0, this.start, this.end)
    this.buffer = target
    this.start = 0
    this.end = rest
    while (!this.eof && this.end - this.start < length) {
      const read = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null)
      if (read === 0) this.eof = true
      this.end += read
    }
    if (this.end - this.start >= length) return true
    if (this.end === this.start) return false
    throw new Error('a snapshot run file ends inside a record')
  }

  close(): void {
    closeSync(this.fd)
  }
}

/**
 * A k-way merge by key (a binary heap of sources); of equal keys the source listed last (the
 * newest run) wins and the others are skipped.
 */
function* merge(sources: RunSource[]): IterableIterator<StoredRecord> {
  const before = (a: number, b: number) => {
    const x = sources[a].head!.keyText
    const y = sources[b].head!.keyText
    return x !== y ? x < y : a > b
  }
  const heap: number[] = []
  const up = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i], heap[parent])) return
      ;[heap[i], heap[parent]] = [heap[parent], heap[i]]
      i = parent
    }
  }
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let least = i
      if (l < heap.length && before(heap[l], heap[least])) least = l
      if (r < heap.length && before(heap[r], heap[least])) least = r
      if (least === i) return
      ;[heap[i], heap[least]] = [heap[least], heap[i]]
      i = least
    }
  }
  const pop = () => {
    const top = heap[0]
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      down(0)
    }
    return top
  }
  /** Moves source `i` on and back into the heap if it has more. */
  const advance = (i: number) => {
    sources[i].advance()
    if (sources[i].head !== undefined) {
      heap.push(i)
      up(heap.length - 1)
    }
  }
  for (let i = 0; i < sources.length; i++) {
    if (sources[i].head !== undefined) {
      heap.push(i)
      up(heap.length - 1)
    }
  }
  while (heap.length > 0) {
    const winner = pop()
    const { keyText, value, topic, partition, offset, timestamp } = sources[winner].head!
    const record: StoredRecord = {
      key: Buffer.from(keyText, 'latin1'),
      value: value === null || sources[winner].owned ? value : Buffer.from(value),
      topic,
      partition,
      offset,
      timestamp,
    }
    advance(winner)
    while (heap.length > 0 && sources[heap[0]].head!.keyText === keyText) advance(pop())
    yield record
  }
}
