/**
 * What es changes in kafkajs 2.2.4's producer (pinned, see kafkajs-internals.ts), installed in
 * Node's module cache before kafkajs's producer modules load:
 * - the Produce request (versions 3–7) is encoded by src/kafka/produce-request.ts, one buffer per
 *   record batch, instead of an encoder object per record, header and varint; headers given as a
 *   list of `{key, value}` pairs (`es produce` copies records exactly) are written in their order,
 *   a null value as length −1, where kafkajs groups repeated names and throws on null;
 * - messages are grouped by partition in one pass: kafkajs copies each partition's list for every
 *   message it adds (quadratic in the messages of a request).
 * Everything else (idempotent sequences, retries, leaders, acks) stays kafkajs's.
 */
import { createRequire } from 'node:module'
import { encodeProduceRequest, type ProduceRequestData } from './produce-request.js'

const require = createRequire(import.meta.url)

type EncoderLike = { writeBuffer(buffer: Buffer): EncoderLike; buffer: Buffer }
type Codec = { compress(encoder: EncoderLike): Promise<Buffer> }

interface GroupArgs {
  topic: string
  partitionMetadata: unknown[]
  messages: unknown[]
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number
}

let installed = false

export function installProduceEncoding(): void {
  if (installed) return
  const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => EncoderLike
  const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
    lookupCodec(codec: number): Codec | null
  }
  const compress = async (codec: number, records: Buffer) => {
    const found = lookupCodec(codec)
    if (!found) throw new Error(`kafkajs has no codec ${codec}`)
    return found.compress(new Encoder().writeBuffer(records))
  }
  const produce = (data: ProduceRequestData) => ({
    apiKey: 0,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => data.acks !== 0,
    encode: async () => new Encoder().writeBuffer(await encodeProduceRequest(data, compress)),
  })
  replaceExports('kafkajs/src/protocol/requests/produce/v3/request.js', produce)
  // v4–v7 take v3's request (with their version): loaded again, they take the one above.
  for (const version of [4, 5, 6, 7]) {
    delete require.cache[require.resolve(`kafkajs/src/protocol/requests/produce/v${version}/request.js`)]
  }
  replaceExports('kafkajs/src/producer/groupMessagesPerPartition.js', groupMessagesPerPartition)
  installed = true
}

/** kafkajs's grouping, in one pass: `{[partition]: messages in their order}`. */
export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: GroupArgs) {
  const grouped: Record<number, unknown[]> = {}
  if (partitionMetadata.length === 0) return grouped
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const list = grouped[partition]
    if (list) list.push(message)
    else grouped[partition] = [message]
  }
  return grouped
}

function replaceExports(module: string, exports: unknown): void {
  const path = require.resolve(module)
  require(path)
  const cached = require.cache[path]
  if (cached) cached.exports = exports
}
