/**
 * Compression of produced batches (`es produce --compression`). kafkajs compresses gzip itself
 * and asks for a codec for the others; these are the same pure-JavaScript libraries the reader
 * decompresses with (compression.ts): snappy in the xerial framing the Java client writes, lz4 as
 * an LZ4 frame with independent blocks (message format v2), zstd through node:zlib where Node has it (22.15 and later).
 */
import { createRequire } from 'node:module'
import * as zlib from 'node:zlib'
import { UsageError } from '../errors.js'
import { decompressRecords } from './compression.js'
import { importKafkajs } from './kafkajs-internals.js'

const require = createRequire(import.meta.url)

export const PRODUCE_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type ProduceCompression = (typeof PRODUCE_COMPRESSIONS)[number]

/** kafkajs's CompressionTypes. */
const CODEC_IDS: Record<ProduceCompression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])

type Lz4 = {
  compressBound(n: number): number
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number
}
type Xxh32 = (seed: number, data: Uint8Array, index: number, length: number) => number

const LZ4_BLOCK = 64 * 1024

/**
 * An LZ4 frame as Kafka reads it (KafkaLZ4BlockInputStream): version 01 with independent blocks
 * of at most 64 KB, no checksums. lz4js's own frames declare dependent blocks, which the broker
 * refuses; its block compressor is used, with a fresh hash table per block.
 */
function lz4Frame(data: Buffer): Buffer {
  const lz4 = require('lz4js') as Lz4
  const xxh32 = (require('lz4js/xxh32.js') as { hash: Xxh32 }).hash
  const descriptor = Buffer.from([0x60, 4 << 4]) // FLG: version 01, block independence; BD: 64 KB
  const header = Buffer.alloc(7)
  header.writeUInt32LE(0x184d2204, 0)
  descriptor.copy(header, 4)
  header[6] = (xxh32(0, descriptor, 0, 2) >>> 8) & 0xff
  const parts: Buffer[] = [header]
  const scratch = Buffer.alloc(lz4.compressBound(LZ4_BLOCK))
  for (let at = 0; at < data.length; at += LZ4_BLOCK) {
    const piece = data.subarray(at, Math.min(at + LZ4_BLOCK, data.length))
    const size = lz4.compressBlock(piece, scratch, 0, piece.length, new Uint32Array(1 << 16))
    const length = Buffer.alloc(4)
    if (size === 0 || size >= piece.length) {
      length.writeUInt32LE((0x80000000 | piece.length) >>> 0)
      parts.push(length, Buffer.from(piece))
    } else {
      length.writeUInt32LE(size)
      parts.push(length, Buffer.from(scratch.subarray(0, size)))
    }
  }
  parts.push(Buffer.alloc(4))
  return Buffer.concat(parts)
}

type ZstdZlib = { zstdCompressSync?: (data: Buffer) => Buffer }

function compressor(name: ProduceCompression): ((data: Buffer) => Buffer) | undefined {
  switch (name) {
    case 'snappy': {
      const snappy = require('snappyjs') as { compress(data: Uint8Array): Uint8Array }
      return (data) => {
        const block = Buffer.from(snappy.compress(data))
        const length = Buffer.alloc(4)
        length.writeInt32BE(block.length)
        return Buffer.concat([XERIAL_HEADER, length, block])
      }
    }
    case 'lz4':
      return lz4Frame
    case 'zstd': {
      const compress = (zlib as unknown as ZstdZlib).zstdCompressSync
      if (!compress) {
        throw new UsageError(
          `--compression zstd needs Node 22.15 or later (node:zlib zstd); this is ${process.version}`,
          {
            code: 'USAGE',
            suggestion: 'use --compression lz4, gzip or snappy, or a newer Node',
          },
        )
      }
      return (data) => compress(data)
    }
    default:
      return undefined
  }
}

/**
 * The kafkajs compression type for `name`, its codec registered with kafkajs first (gzip and
 * none are kafkajs's own). A zstd the running Node cannot write is a usage error (exit 2).
 */
export async function kafkajsCompression(name: ProduceCompression): Promise<number> {
  const compress = compressor(name)
  if (compress) {
    const { CompressionCodecs } = await importKafkajs()
    const id = CODEC_IDS[name]
    ;(CompressionCodecs as Record<number, () => unknown>)[id] = () => ({
      compress: async (encoder: { buffer: Buffer }) => compress(encoder.buffer),
      decompress: (data: Buffer) => decompressRecords(id, data),
    })
  }
  return CODEC_IDS[name]
}
