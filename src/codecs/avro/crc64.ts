/**
 * CRC-64-AVRO, the Rabin fingerprint of the Avro specification ("Schema Fingerprints"), computed on
 * two unsigned 32-bit halves so the per-byte loop stays in small integers; the result is a bigint.
 * avsc offers only MD5/SHA-256 fingerprints (mtth/avsc#327), hence this.
 */

/** The fingerprint of zero bytes, and the polynomial seed of the table. */
export const CRC64_AVRO_EMPTY = 0xc15d213aa4d7a795n

const EMPTY_HI = 0xc15d213a
const EMPTY_LO = 0xa4d7a795

const TABLE_HI = new Uint32Array(256)
const TABLE_LO = new Uint32Array(256)
for (let i = 0; i < 256; i++) {
  let hi = 0
  let lo = i
  for (let bit = 0; bit < 8; bit++) {
    // fp = (fp >>> 1) ^ (EMPTY & -(fp & 1))
    const mask = -(lo & 1) >>> 0
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0
    hi = hi >>> 1
    hi = (hi ^ (EMPTY_HI & mask)) >>> 0
    lo = (lo ^ (EMPTY_LO & mask)) >>> 0
  }
  TABLE_HI[i] = hi
  TABLE_LO[i] = lo
}

export function crc64Avro(bytes: Uint8Array): bigint {
  let hi = EMPTY_HI
  let lo = EMPTY_LO
  for (let i = 0; i < bytes.length; i++) {
    // fp = (fp >>> 8) ^ TABLE[(fp ^ b) & 0xff]
    const index = (lo ^ bytes[i]) & 0xff
    lo = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ TABLE_LO[index]) >>> 0
    hi = ((hi >>> 8) ^ TABLE_HI[index]) >>> 0
  }
  return (BigInt(hi) << 32n) | BigInt(lo)
}
