/**
 * Zero-config values: JSON when the bytes parse as JSON, else UTF-8 text when they are valid
 * UTF-8 without control characters, else the bytes themselves. Never throws, so
 * `es tail --topic t` shows anything.
 */
import { isUtf8 } from 'node:buffer'
import type { Codec } from './codec.js'
import { stringifyJson } from './json-codec.js'

export class AutoCodec implements Codec {
  readonly name = 'auto'
  readonly jsonText = true

  decode(bytes: Buffer | null): unknown {
    if (bytes === null) return null
    if (!isUtf8(bytes)) return bytes
    const text = bytes.toString('utf8')
    // Throwing is the slow part of JSON.parse: only try text that can start a JSON document.
    if (mayStartJson(text)) {
      try {
        return JSON.parse(text)
      } catch {
        // not JSON: text
      }
    }
    // Valid UTF-8 with control characters is binary that happens to decode (Protobuf, Avro…).
    return BINARY_CONTROL.test(text) ? bytes : text
  }

  /**
   * Buffers as they are, strings as UTF-8 text (so a text value sent back stays text; a JSON
   * string document is written without its quotes), anything else as JSON.
   */
  encode(value: unknown): Buffer | null {
    if (value === null || value === undefined) return null
    if (Buffer.isBuffer(value)) return value
    if (typeof value === 'string') return Buffer.from(value, 'utf8')
    return Buffer.from(stringifyJson(value), 'utf8')
  }
}

const BINARY_CONTROL = /[\x00-\x08\x0e-\x1f\x7f]/

function mayStartJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue
    // { [ " - 0-9 t f n
    return (
      c === 0x7b ||
      c === 0x5b ||
      c === 0x22 ||
      c === 0x2d ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x74 ||
      c === 0x66 ||
      c === 0x6e
    )
  }
  return false
}
