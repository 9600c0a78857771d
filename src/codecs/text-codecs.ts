/**
 * Codecs without structure: UTF-8 text and opaque bytes.
 */
import type { Codec } from './codec.js'
import { stringifyJson } from './json-codec.js'

/**
 * UTF-8 text. Invalid UTF-8 sequences decode to U+FFFD (as kcat shows them) rather than failing:
 * a key is still worth showing when one byte is off.
 */
export class StringCodec implements Codec {
  readonly name = 'string'

  decode(bytes: Buffer | null): unknown {
    return bytes === null ? null : bytes.toString()
  }

  /** Strings as UTF-8; numbers and booleans as their text; objects as JSON text. */
  encode(value: unknown): Buffer | null {
    if (value === null || value === undefined) return null
    if (Buffer.isBuffer(value)) return value
    if (typeof value === 'string') return Buffer.from(value, 'utf8')
    if (typeof value === 'object') return Buffer.from(stringifyJson(value), 'utf8')
    return Buffer.from(String(value), 'utf8')
  }
}

/**
 * Opaque bytes: decode keeps the Buffer (renderers show it as base64). Encoding takes a Buffer or
 * Uint8Array, or a string read as base64, the form bytes are rendered in, so what `es` prints can
 * be sent back.
 */
export class BytesCodec implements Codec {
  readonly name = 'bytes'

  decode(bytes: Buffer | null): unknown {
    return bytes
  }

  encode(value: unknown): Buffer | null {
    if (value === null || value === undefined) return null
    if (Buffer.isBuffer(value)) return value
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    if (typeof value === 'string') return Buffer.from(value.replace(/^base64:/, ''), 'base64')
    return Buffer.from(stringifyJson(value), 'utf8')
  }
}
