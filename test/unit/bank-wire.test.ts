import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32c } from '../../examples/bank/wire-producer.js'

describe('bank loadgen wire producer', () => {
  it('computes CRC-32C (Castagnoli), the record batch checksum', () => {
    // The check value of CRC-32C, and a longer input that exercises the 8-byte loop and the tail.
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa)
    assert.equal(crc32c(Buffer.from('xx123456789yy'), 2, 11), 0xe3069283)
    assert.equal(crc32c(Buffer.alloc(0)), 0)
  })
})
