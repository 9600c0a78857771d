/**
 * Headers in their order, repeated and null-valued, as Kafka's record format allows. kafkajs
 * 2.2.4 takes headers as an object (`{name: value | value[]}`): repeats of one name are grouped,
 * names interleaved with others are reordered, and a null value throws. `es produce` copies
 * records exactly, so its producer passes a list of `{key, value}` pairs, which the record encoder
 * installed here writes in order (a null value as length −1); objects still go to kafkajs's own.
 *
 * The encoder is a private kafkajs module (pinned at 2.2.4, see kafkajs-internals.ts), replaced in
 * Node's module cache before the Produce request module that requires it is loaded.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export interface HeaderPair {
  key: string
  value: Buffer | null
}

interface KafkajsEncoder {
  writeVarInt(n: number): KafkajsEncoder
  writeInt8(n: number): KafkajsEncoder
  writeVarLong(n: number | bigint | object): KafkajsEncoder
  writeVarIntBytes(b: Buffer | string | null): KafkajsEncoder
  writeVarIntString(s: string): KafkajsEncoder
  writeVarIntArray(items: KafkajsEncoder[]): KafkajsEncoder
}
type EncoderClass = {
  new (): KafkajsEncoder
  sizeOfVarInt(n: number): number
  sizeOfVarLong(n: number | bigint | object): number
  sizeOfVarIntBytes(b: Buffer | string | null): number
}
interface RecordArgs {
  offsetDelta?: number
  timestampDelta?: number
  key: Buffer | null
  value: Buffer | null
  headers?: unknown
}

let installed = false

export function installOrderedHeaders(): void {
  if (installed) return
  const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')
  const requestPath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js')
  const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass
  const original = require(recordPath) as (args: RecordArgs) => KafkajsEncoder
  const ordered = (args: RecordArgs): KafkajsEncoder => {
    if (!Array.isArray(args.headers)) return original(args)
    const { offsetDelta = 0, timestampDelta = 0, key, value } = args
    const pairs = args.headers as HeaderPair[]
    let headersSize = Encoder.sizeOfVarInt(pairs.length)
    for (const pair of pairs) {
      const keySize = Buffer.byteLength(pair.key)
      headersSize += Encoder.sizeOfVarInt(keySize) + keySize
      headersSize += pair.value === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarIntBytes(pair.value)
    }
    const sizeOfBody =
      1 +
      Encoder.sizeOfVarLong(timestampDelta) +
      Encoder.sizeOfVarInt(offsetDelta) +
      Encoder.sizeOfVarIntBytes(key) +
      Encoder.sizeOfVarIntBytes(value) +
      headersSize
    return new Encoder()
      .writeVarInt(sizeOfBody)
      .writeInt8(0)
      .writeVarLong(timestampDelta)
      .writeVarInt(offsetDelta)
      .writeVarIntBytes(key)
      .writeVarIntBytes(value)
      .writeVarIntArray(pairs.map((pair) => new Encoder().writeVarIntString(pair.key).writeVarIntBytes(pair.value)))
  }
  const cached = require.cache[recordPath]
  if (cached) cached.exports = ordered
  // A Produce request module loaded earlier holds the original encoder: load it again.
  delete require.cache[requestPath]
  installed = true
}
