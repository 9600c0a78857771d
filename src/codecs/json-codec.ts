/**
 * JSON values: UTF-8 JSON text ↔ the parsed value. Also the JSON parsing used by the envelope's
 * `| json` stage, so both report bad JSON the same way: `not valid JSON at position 12`.
 */
import type { Codec } from './codec.js'
import { DecodeError, EncodeError } from './codec-errors.js'

export class JsonCodec implements Codec {
  readonly name = 'json'
  readonly jsonText = true

  decode(bytes: Buffer | null): unknown {
    if (bytes === null) return null
    // toString() without arguments is Node's direct path to UTF-8 (no encoding lookup).
    return parseJsonText(bytes.toString())
  }

  encode(value: unknown): Buffer | null {
    if (value === null || value === undefined) return null
    return Buffer.from(stringifyJson(value), 'utf8')
  }
}

/** `JSON.parse` that fails with a `DecodeError` naming the position of the first bad character. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new DecodeError(describeJsonError(text), { code: 'INVALID_JSON' })
  }
}

/** `JSON.stringify` that fails with an `EncodeError` (cycles, bigints) instead of a TypeError. */
export function stringifyJson(value: unknown): string {
  try {
    // Without a replacer JSON.stringify takes V8's fast path; only a bigint needs the replacer.
    try {
      return JSON.stringify(value)
    } catch (error) {
      if (!/BigInt/i.test((error as Error).message)) throw error
      return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? bigintToJson(v) : v))
    }
  } catch (error) {
    throw new EncodeError(`cannot write value as JSON: ${(error as Error).message.split('\n')[0]}`)
  }
}

function bigintToJson(value: bigint): number | string {
  return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
}

/**
 * Why `text` is not JSON. V8's own messages do not always carry a position (`Unexpected token
 * '}', "…" is not valid JSON` quotes the whole input), so the position is found by a small
 * syntax scan; this runs only after JSON.parse has failed.
 */
export function describeJsonError(text: string): string {
  if (text.trim() === '') return 'not valid JSON: empty input'
  const position = jsonErrorPosition(text)
  if (position === undefined) return 'not valid JSON'
  if (position >= text.length) return `not valid JSON: unexpected end at position ${position}`
  return `not valid JSON at position ${position}`
}

/** Index of the first character that breaks the JSON grammar, or undefined if none is found. */
export function jsonErrorPosition(text: string): number | undefined {
  let i = 0
  const n = text.length
  const fail = (): never => {
    throw new JsonSyntaxPosition(i)
  }
  const skipWhitespace = () => {
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break
      i++
    }
  }
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) fail()
  }
  const digits = () => {
    const start = i
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++
    if (i === start) fail()
  }
  const number = () => {
    if (text[i] === '-') i++
    if (text[i] === '0') i++
    else digits()
    if (text[i] === '.') {
      i++
      digits()
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++
      if (text[i] === '+' || text[i] === '-') i++
      digits()
    }
  }
  const string = () => {
    i++ // opening quote
    for (;;) {
      if (i >= n) fail()
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return
      }
      if (c < 0x20) fail()
      if (c === 0x5c) {
        i++
        const e = text[i]
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            i++
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail()
          }
          i++
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++
        else fail()
      } else i++
    }
  }
  const value = (): void => {
    skipWhitespace()
    const c = text[i]
    if (c === '{') {
      i++
      skipWhitespace()
      if (text[i] === '}') {
        i++
        return
      }
      for (;;) {
        skipWhitespace()
        if (text[i] !== '"') fail()
        string()
        skipWhitespace()
        if (text[i] !== ':') fail()
        i++
        value()
        skipWhitespace()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return
        }
        fail()
      }
    }
    if (c === '[') {
      i++
      skipWhitespace()
      if (text[i] === ']') {
        i++
        return
      }
      for (;;) {
        value()
        skipWhitespace()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return
        }
        fail()
      }
    }
    if (c === '"') string()
    else if (c === 't') literal('true')
    else if (c === 'f') literal('false')
    else if (c === 'n') literal('null')
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number()
    else fail()
  }
  try {
    value()
    skipWhitespace()
    return i < n ? i : undefined
  } catch (error) {
    if (error instanceof JsonSyntaxPosition) return error.position
    return undefined // e.g. stack overflow on absurdly deep nesting: no position then
  }
}

class JsonSyntaxPosition {
  constructor(readonly position: number) {}
}
