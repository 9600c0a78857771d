import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { groupMessagesPerPartition } from '../../src/kafka/produce-encoding.js'
import { crc32c, encodeProduceRequest, type ProduceMessage } from '../../src/kafka/produce-request.js'
import { decodeRecordSet } from '../../src/kafka/record-batch.js'

const require = createRequire(import.meta.url)

/**
 * kafkajs's own Produce request (v3 body), CRC-32C, gzip codec and grouping, loaded from their
 * files (this process never installs es's replacements): an independent writer of the format.
 */
type KafkajsRequest = (args: object) => { encode(): Promise<{ buffer: Buffer }> }
const kafkajs = {
  request: require('kafkajs/src/protocol/requests/produce/v3/request.js') as KafkajsRequest,
  crc32c: require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number,
  Long: require('kafkajs/src/utils/long.js') as { fromValue(v: string): unknown },
  codecs: require('kafkajs/src/protocol/message/compression/index.js') as {
    lookupCodec(c: number): { compress(e: { buffer: Buffer }): Promise<Buffer> }
  },
  group: require('kafkajs/src/producer/groupMessagesPerPartition.js') as typeof groupMessagesPerPartition,
}

const gzip = async (codec: number, records: Buffer) => {
  assert.equal(codec, 1)
  return kafkajs.codecs.lookupCodec(1).compress({ buffer: records })
}

function messages(count: number, seed: number): ProduceMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 5 === 4 ? null : Buffer.from(`acc-${seed}-${i}`),
    value: i % 7 === 3 ? null : i % 2 ? `{"n":${i},"text":"é ✓ ${'x'.repeat(i % 300)}"}` : randomBytes(i % 200),
    headers: i % 3 === 0 ? {} : { trace: `t-${i}`, ...(i % 3 === 2 ? { multi: ['a', Buffer.from('b')] } : {}) },
    timestamp: String(1_764_000_000_000 + ((i * 37) % 1000)),
  }))
}

describe('produce request encoding', () => {
  it('writes the bytes kafkajs writes: keys, null values, headers, timestamps, producer id and sequences, gzip', async () => {
    for (const compression of [0, 1]) {
      const request = {
        transactionalId: null,
        acks: -1,
        timeout: 30000,
        compression,
        producerEpoch: 3,
        topicData: [
          {
            topic: 'bank.commands',
            partitions: [
              { partition: 0, firstSequence: 0, messages: messages(1, 0) },
              { partition: 3, firstSequence: 1234, messages: messages(700, 1) },
            ],
          },
          { topic: 'ünïcode', partitions: [{ partition: 1, firstSequence: 7, messages: messages(40, 2) }] },
        ],
      }
      const theirs = (
        await kafkajs.request({ ...request, producerId: kafkajs.Long.fromValue('9007199254740993') }).encode()
      ).buffer
      const ours = await encodeProduceRequest({ ...request, producerId: 9007199254740993n }, gzip)
      assert.equal(ours.length, theirs.length, `compression ${compression}`)
      assert.ok(ours.equals(theirs), `compression ${compression}: the same bytes`)
    }
  })

  it('writes a list of header pairs in its order, repeated names apart and a null value as length −1', async () => {
    const body = await encodeProduceRequest({
      acks: 1,
      timeout: 1000,
      topicData: [
        {
          topic: 't',
          partitions: [
            {
              partition: 0,
              messages: [
                {
                  key: 'k',
                  value: 'v',
                  headers: [
                    { key: 'a', value: Buffer.from('1') },
                    { key: 'b', value: null },
                    { key: 'a', value: Buffer.from('2') },
                  ],
                },
              ],
            },
          ],
        },
      ],
    })
    // transactional id (2) acks (2) timeout (4) topics (4) name (2 + 1) partitions (4) partition (4) size (4)
    const batch = body.subarray(2 + 2 + 4 + 4 + 3 + 4 + 4 + 4)
    assert.equal(
      batch.readUInt32BE(8 + 4 + 4 + 1),
      crc32c(batch, 8 + 4 + 4 + 1 + 4),
      'the CRC covers attributes to the end',
    )
    const { records } = await decodeRecordSet(
      batch,
      { topic: 't', partition: 0, fetchOffset: 0, abortedTransactions: [] },
      async () => {
        throw new Error('not compressed')
      },
    )
    assert.equal(records.length, 1)
    // The decoder keeps headers by name (the last of a repeated name); the order is checked in the bytes.
    const text = batch.toString('latin1')
    assert.ok(
      text.indexOf('\u0002a\u00021') < text.indexOf('\u0002b\u0001') &&
        text.indexOf('\u0002b\u0001') < text.indexOf('\u0002a\u00022'),
    )
    assert.equal(records[0].key?.toString(), 'k')
    assert.equal(records[0].value?.toString(), 'v')
  })

  it('computes CRC-32C as kafkajs does, at every length and alignment', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
    const data = randomBytes(4096)
    for (const [start, end] of [
      [0, 0],
      [0, 1],
      [3, 11],
      [5, 4096],
      [1, 4095],
      [0, 4096],
    ]) {
      assert.equal(crc32c(data, start, end), kafkajs.crc32c(data.subarray(start, end)), `${start}–${end}`)
    }
  })

  it('groups messages by partition as kafkajs does, in their order', () => {
    const all = Array.from({ length: 2000 }, (_, i) => ({ value: `${i}`, partition: (i * 7919) % 6 }))
    const args = {
      topic: 't',
      partitionMetadata: [{}, {}, {}, {}, {}, {}],
      messages: all,
      partitioner: ({ message }: { message: unknown }) => (message as { partition: number }).partition,
    }
    assert.deepEqual(groupMessagesPerPartition(args), kafkajs.group(args))
    assert.deepEqual(groupMessagesPerPartition({ ...args, partitionMetadata: [] }), {})
  })
})
