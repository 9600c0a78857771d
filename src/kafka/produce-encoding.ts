/**
 * What es changes in kafkajs 2.2.4's producer (pinned, see kafkajs-internals.ts), in the one bundled
 * copy of kafkajs es loads (src/bundled-modules.ts):
 * - the Produce request (versions 3–7) is encoded by src/kafka/produce-request.ts, one buffer per
 *   record batch, instead of an encoder object per record, header and varint; headers given as a
 *   list of `{key, value}` pairs (`es produce` copies records exactly) are written in their order,
 *   a null value as length −1, where kafkajs groups repeated names and throws on null;
 * - messages are grouped by partition in one pass: kafkajs copies each partition's list for every
 *   message it adds (quadratic in the messages of a request).
 * Everything else (idempotent sequences, retries, leaders, acks) stays kafkajs's.
 */
import { encodeProduceRequest, type ProduceRequestData } from './produce-request.js'

export type KafkajsEncoder = new () => { writeBuffer(buffer: Buffer): { buffer: Buffer } }
type Codec = { compress(encoder: { buffer: Buffer }): Promise<Buffer> }
export type KafkajsCodecLookup = (codec: number) => Codec | null

interface GroupArgs {
  topic: string
  partitionMetadata: unknown[]
  messages: unknown[]
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number
}

/**
 * What the bundled kafkajs calls instead of its own Produce request (v3, which v4–v7 take with
 * their version) and its grouping of messages (scripts/bundle.mjs replaces the two modules by
 * calls to these), given kafkajs's encoder and codecs.
 */
export function producerHooks(Encoder: KafkajsEncoder, lookupCodec: KafkajsCodecLookup) {
  const compress = async (codec: number, records: Buffer) => {
    const found = lookupCodec(codec)
    if (!found) throw new Error(`kafkajs has no codec ${codec}`)
    return found.compress(new Encoder().writeBuffer(records))
  }
  return {
    produceRequest: (data: ProduceRequestData) => ({
      apiKey: 0,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => data.acks !== 0,
      encode: async () => new Encoder().writeBuffer(await encodeProduceRequest(data, compress)),
    }),
    groupMessagesPerPartition,
  }
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
