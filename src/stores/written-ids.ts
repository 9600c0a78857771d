/**
 * Which aggregate ids a state file opened fresh may hold: a Bloom filter of the ids written to
 * it. A fold meets most aggregates for the first time while its file grows; "certainly not
 * stored" saves a query per new aggregate (≈ 4–6 µs each, measured), at a fixed 4 MiB whatever
 * the number of ids (false positives only cost the query: ≈ 2 % at 2.5M ids, ≈ 6 % at 5M).
 */
const BITS = 1 << 25
const HASHES = 4

export class WrittenIds {
  private readonly bits = new Uint8Array(BITS >>> 3)

  add(id: string): void {
    let [h1, h2] = hashes(id)
    for (let i = 0; i < HASHES; i++) {
      const bit = h1 & (BITS - 1)
      this.bits[bit >>> 3] |= 1 << (bit & 7)
      h1 = (h1 + h2) >>> 0
    }
  }

  /** False when `id` was certainly never added. */
  mayHave(id: string): boolean {
    let [h1, h2] = hashes(id)
    for (let i = 0; i < HASHES; i++) {
      const bit = h1 & (BITS - 1)
      if ((this.bits[bit >>> 3] & (1 << (bit & 7))) === 0) return false
      h1 = (h1 + h2) >>> 0
    }
    return true
  }
}

/** Two 32-bit hashes of a string (FNV-1a and a multiplicative mix), for double hashing. */
function hashes(text: string): [number, number] {
  let a = 0x811c9dc5
  let b = 0x9747b28c
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
    b ^= b >>> 15
  }
  return [a >>> 0, (b | 1) >>> 0]
}
