/**
 * Record-batch compression, all four codecs Kafka has (the attributes' low 3 bits): gzip (Node's
 * zlib), snappy (snappyjs; raw blocks, or the xerial framing the Java client writes), lz4 (lz4js;
 * the LZ4 frame format of message format v2) and zstd (fzstd). Pure JavaScript apart from zlib:
 * nothing to compile, and each library (zlib too) is loaded on the first batch that needs it.
 */
import { createRequire } from 'node:module'
import { promisify } from 'node:util'

const require = createRequire(import.meta.url)

export const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/** `\x82SNAPPY\x00`, then int32 version and int32 compatible version: xerial-snappy's stream header. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_BYTES = 16

let gunzip: ((data: Buffer) => Promise<Buffer>) | undefined
let snappy: { uncompress(data: Uint8Array): Uint8Array } | undefined
let lz4: { decompress(data: Uint8Array): Uint8Array | number[] } | undefined
let zstd: { decompress(data: Uint8Array): Uint8Array } | undefined

export async function decompressRecords(codec: number, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case 1:
      gunzip ??= promisify((require('node:zlib') as typeof import('node:zlib')).gunzip)
      return gunzip(data)
    case 2:
      return snappyDecompress(data)
    case 3: {
      lz4 ??= require('lz4js') as typeof lz4
      return asBuffer(lz4!.decompress(data))
    }
    case 4: {
      zstd ??= require('fzstd') as typeof zstd
      return asBuffer(zstd!.decompress(data))
    }
    default:
      throw new Error(`unknown compression codec ${codec}`)
  }
}

function snappyDecompress(data: Buffer): Buffer {
  snappy ??= require('snappyjs') as typeof snappy
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return asBuffer(snappy!.uncompress(data))
  }
  // xerial framing: after the header, blocks of int32 length + raw snappy.
  const chunks: Buffer[] = []
  let at = XERIAL_HEADER_BYTES
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error('snappy (xerial) block length cut off')
    const length = data.readInt32BE(at)
    at += 4
    if (length < 0 || at + length > data.length) throw new Error('snappy (xerial) block cut off')
    chunks.push(asBuffer(snappy!.uncompress(data.subarray(at, at + length))))
    at += length
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
}

function asBuffer(bytes: Uint8Array | number[]): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Buffer.from(bytes)
}
