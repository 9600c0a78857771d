import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { decompressRecords } from '../../src/kafka/compression.js'

const require = createRequire(import.meta.url)
const snappy = require('snappyjs') as { compress(data: Uint8Array): Uint8Array }
const lz4 = require('lz4js') as { compress(data: Uint8Array): number[] | Uint8Array }

/** Record-batch bodies: long enough for several snappy/lz4 blocks, repetitive enough to compress. */
const body = Buffer.from(Array.from({ length: 4000 }, (_, i) => `record ${i % 97} ${'x'.repeat(i % 13)}`).join('\n'))

/** The xerial-snappy framing the Java client writes: header, then (int32 length, raw block)*. */
function xerial(data: Buffer, blockSize: number): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
  const parts = [header]
  for (let at = 0; at < data.length; at += blockSize) {
    const block = Buffer.from(snappy.compress(data.subarray(at, at + blockSize)))
    const length = Buffer.alloc(4)
    length.writeInt32BE(block.length)
    parts.push(length, block)
  }
  return Buffer.concat(parts)
}

describe('record-batch compression', () => {
  it('gzip, raw snappy, xerial-framed snappy (one and many blocks) and lz4 frames give back the bytes', async () => {
    assert.deepEqual(await decompressRecords(1, gzipSync(body)), body)
    assert.deepEqual(await decompressRecords(2, Buffer.from(snappy.compress(body))), body)
    assert.deepEqual(await decompressRecords(2, xerial(body, 1 << 20)), body)
    assert.deepEqual(await decompressRecords(2, xerial(body, 4096)), body)
    assert.deepEqual(await decompressRecords(3, Buffer.from(lz4.compress(body))), body)
  })

  it('zstd: a frame written by the reference zstd encoder (fixture) gives back its bytes', async () => {
    // `printf 'hello, kafka\\n%.0s' 1 2 3 | zstd -c | base64` (zstd 1.5.4): Node 20 has no zstd encoder.
    const frame = Buffer.from('KLUv/QRYnQAAaGhlbGxvLCBrYWZrYQoBAGDPL3vAwhs=', 'base64')
    assert.equal((await decompressRecords(4, frame)).toString(), 'hello, kafka\n'.repeat(3))
  })

  it('fails on bytes that are not what the codec says, and on unknown codecs', async () => {
    for (const codec of [1, 2, 3, 4, 5]) {
      await assert.rejects(decompressRecords(codec, Buffer.from('plainly not compressed')), Error, `codec ${codec}`)
    }
  })
})
