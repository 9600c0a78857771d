import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { ExitCode, InvalidDataError } from '../../src/errors.js'
import { decompressRecords } from '../../src/kafka/compression.js'
import { decodeRecordSet, type RecordSetContext, scanRecordSet } from '../../src/kafka/record-batch.js'
import { controlRecord, encodeBatch, encodeRecord } from '../support/record-batches.js'

const require = createRequire(import.meta.url)

/** kafkajs's own encoders and gzip codec: an independent writer of the format. */
const kafkajs = {
  RecordBatch: (
    require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> }
  ).RecordBatch,
  Record: require('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => unknown,
  gzip: (
    require('kafkajs/src/protocol/message/compression') as {
      lookupCodec(c: number): { decompress(b: Buffer): Promise<Buffer> }
    }
  ).lookupCodec(1),
}

const decompress = async (codec: number, data: Buffer) => {
  assert.equal(codec, 1, 'only gzip in these tests')
  return kafkajs.gzip.decompress(data)
}

const context = (overrides: Partial<RecordSetContext> = {}): RecordSetContext => ({
  topic: 'events',
  partition: 2,
  fetchOffset: 0,
  abortedTransactions: [],
  ...overrides,
})

const offsets = (records: Array<{ offset: number }>) => records.map((r) => r.offset)
const valueTexts = (records: Array<{ value: Buffer | null }>) => records.map((r) => r.value?.toString() ?? null)

async function kafkajsBatch(baseOffset: number, count: number, compression = 0): Promise<Buffer> {
  const records = Array.from({ length: count }, (_, i) =>
    kafkajs.Record({
      offsetDelta: i,
      timestampDelta: i * 10,
      key: Buffer.from(`k${i}`),
      value: i === 1 ? null : Buffer.from(`v${i}`),
      headers: i === 2 ? { trace: Buffer.from('t-2'), empty: Buffer.alloc(0) } : {},
    }),
  )
  const encoded = await kafkajs.RecordBatch({
    compression,
    firstOffset: String(baseOffset),
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_000 + (count - 1) * 10,
    lastOffsetDelta: count - 1,
    records,
  })
  return encoded.buffer
}

describe('record batch decoding', () => {
  it('decodes batches written by kafkajs, plain and gzip', async () => {
    for (const compression of [0, 1]) {
      const data = Buffer.concat([await kafkajsBatch(100, 4, compression), await kafkajsBatch(104, 3, compression)])
      const { records, nextOffset, batches } = await decodeRecordSet(data, context({ fetchOffset: 100 }), decompress)
      assert.equal(batches, 2)
      assert.equal(nextOffset, 107)
      assert.deepEqual(offsets(records), [100, 101, 102, 103, 104, 105, 106])
      assert.deepEqual(valueTexts(records.slice(0, 4)), ['v0', null, 'v2', 'v3'])
      const third = records[2]
      assert.equal(third.topic, 'events')
      assert.equal(third.partition, 2)
      assert.equal(third.key?.toString(), 'k2')
      assert.equal(third.timestamp, 1_700_000_000_020)
      assert.equal(third.headers.trace?.toString(), 't-2')
      assert.equal(third.headers.empty?.length, 0)
      assert.deepEqual(records[0].headers, {})
    }
  })

  it('drops records below the fetch offset but keeps the position of the whole batch', async () => {
    const data = await kafkajsBatch(10, 5)
    const { records, nextOffset } = await decodeRecordSet(data, context({ fetchOffset: 13 }), decompress)
    assert.deepEqual(offsets(records), [13, 14])
    assert.equal(nextOffset, 15)
  })

  it('moves past a compacted batch whose remaining records all lie below the fetch offset', async () => {
    // Records 0..3 remain of a batch that spanned 0..9 before compaction: fetching from 5 must
    // continue at 10 at once, not one offset per fetch (kafkajs #562, #1072).
    const data = encodeBatch({
      baseOffset: 0,
      lastOffsetDelta: 9,
      records: [0, 1, 2, 3].map((offsetDelta) => ({ offsetDelta, value: `r${offsetDelta}` })),
    })
    const { records, nextOffset } = await decodeRecordSet(data, context({ fetchOffset: 5 }), decompress)
    assert.deepEqual(records, [])
    assert.equal(nextOffset, 10)
  })

  it('moves past batches emptied by compaction and across offset gaps', async () => {
    const data = Buffer.concat([
      encodeBatch({ baseOffset: 20, lastOffsetDelta: 4, records: [] }),
      encodeBatch({
        baseOffset: 31,
        records: [
          { offsetDelta: 0, value: 'a' },
          { offsetDelta: 3, value: 'b' },
        ],
      }),
    ])
    const { records, nextOffset } = await decodeRecordSet(data, context({ fetchOffset: 20 }), decompress)
    assert.deepEqual(offsets(records), [31, 34])
    assert.equal(nextOffset, 35)
  })

  it('skips control batches and moves past them', async () => {
    const data = Buffer.concat([
      encodeBatch({ baseOffset: 0, producerId: 5n, transactional: true, records: [{ offsetDelta: 0, value: 'x' }] }),
      encodeBatch({ baseOffset: 1, producerId: 5n, control: true, records: [controlRecord('commit')] }),
    ])
    const { records, nextOffset } = await decodeRecordSet(data, context(), decompress)
    assert.deepEqual(valueTexts(records), ['x'])
    assert.equal(nextOffset, 2)
  })

  it('drops the batches of aborted transactions only', async () => {
    const tx = (baseOffset: number, producerId: bigint, value: string) =>
      encodeBatch({ baseOffset, producerId, transactional: true, records: [{ offsetDelta: 0, value }] })
    const marker = (baseOffset: number, producerId: bigint, type: 'abort' | 'commit') =>
      encodeBatch({ baseOffset, producerId, control: true, records: [controlRecord(type)] })
    const data = Buffer.concat([
      tx(10, 7n, 'aborted-1'),
      tx(11, 8n, 'other-producer'),
      tx(12, 7n, 'aborted-2'),
      marker(13, 7n, 'abort'),
      encodeBatch({ baseOffset: 14, producerId: 9n, records: [{ offsetDelta: 0, value: 'idempotent' }] }),
      tx(15, 7n, 'committed'),
      marker(16, 7n, 'commit'),
      marker(17, 8n, 'commit'),
    ])
    const { records, nextOffset } = await decodeRecordSet(
      data,
      context({ fetchOffset: 10, abortedTransactions: [{ producerId: 7n, firstOffset: 10 }] }),
      decompress,
    )
    assert.deepEqual(valueTexts(records), ['other-producer', 'idempotent', 'committed'])
    assert.equal(nextOffset, 18)
  })

  it('ignores a batch cut off at the end of the response', async () => {
    const whole = encodeBatch({ baseOffset: 0, records: [{ offsetDelta: 0, value: 'whole' }] })
    const cut = encodeBatch({ baseOffset: 1, records: [{ offsetDelta: 0, value: 'cut off' }] }).subarray(0, 30)
    const { records, nextOffset, batches } = await decodeRecordSet(Buffer.concat([whole, cut]), context(), decompress)
    assert.deepEqual(valueTexts(records), ['whole'])
    assert.equal(batches, 1)
    assert.equal(nextOffset, 1)
  })

  it('never delivers records at or beyond the end, and never moves past it', async () => {
    const data = Buffer.concat([await kafkajsBatch(0, 5), await kafkajsBatch(5, 5)])
    const { records, nextOffset } = await decodeRecordSet(data, context({ end: 3 }), decompress)
    assert.deepEqual(offsets(records), [0, 1, 2])
    assert.equal(nextOffset, 3)
    const scanned = scanRecordSet(data, context({ end: 3 }))
    assert.equal(scanned.deliverable.length, 1, 'batches starting at or after the end are not even kept')
  })

  it('completes a range whose last offsets were compacted away', async () => {
    // The range ends at 8; offsets 5..7 are gone, the next batch starts at 9.
    const data = encodeBatch({ baseOffset: 9, records: [{ offsetDelta: 0, value: 'later' }] })
    const { records, nextOffset } = await decodeRecordSet(data, context({ fetchOffset: 5, end: 8 }), decompress)
    assert.deepEqual(records, [])
    assert.equal(nextOffset, 8)
  })

  it('uses the log append time for every record of such batches', async () => {
    const data = encodeBatch({
      baseOffset: 0,
      baseTimestamp: 1000,
      maxTimestamp: 5000,
      logAppendTime: true,
      records: [
        { offsetDelta: 0, timestampDelta: 1 },
        { offsetDelta: 1, timestampDelta: 2 },
      ],
    })
    const { records } = await decodeRecordSet(data, context(), decompress)
    assert.deepEqual(
      records.map((r) => r.timestamp),
      [5000, 5000],
    )
  })

  it('decodes negative and large timestamp deltas', async () => {
    const base = 1_700_000_000_000
    const data = encodeBatch({
      baseOffset: 0,
      baseTimestamp: base,
      records: [
        { offsetDelta: 0, timestampDelta: -86_400_000 },
        { offsetDelta: 1, timestampDelta: 3_000_000_000_000 },
      ],
    })
    const { records } = await decodeRecordSet(data, context(), decompress)
    assert.deepEqual(
      records.map((r) => r.timestamp),
      [base - 86_400_000, base + 3_000_000_000_000],
    )
  })

  it('reports a corrupt batch and a legacy message format as invalid data (exit 5)', async () => {
    const good = encodeBatch({ baseOffset: 0, records: [{ offsetDelta: 0, value: 'abc' }] })
    const corrupt = Buffer.from(good)
    corrupt.writeUInt8(0x7f, 61) // record length far beyond the batch
    const legacy = encodeBatch({ baseOffset: 40, magic: 1, records: [{ offsetDelta: 0, value: 'old' }] })
    for (const [data, pattern] of [
      [corrupt, /events\/2 near offset 0 is corrupt/],
      [legacy, /events\/2@40 .*legacy message format v1/],
    ] as const) {
      await assert.rejects(decodeRecordSet(data, context(), decompress), (error: unknown) => {
        assert.ok(error instanceof InvalidDataError)
        assert.equal(error.exitCode, ExitCode.invalidData)
        assert.match(error.message, pattern)
        return true
      })
    }
  })

  it('names the codec of a batch it cannot decompress, with topic, partition and offset', async () => {
    for (const [codec, name] of [
      [2, 'snappy'],
      [3, 'lz4'],
      [4, 'zstd'],
      [7, 'codec 7'],
    ] as const) {
      const data = encodeBatch({
        baseOffset: 77,
        rawRecords: { codec, bytes: Buffer.from('not compressed at all'), recordCount: 1 },
      })
      await assert.rejects(
        decodeRecordSet(data, context(), decompressRecords),
        (error: unknown) =>
          error instanceof InvalidDataError &&
          error.exitCode === 5 &&
          new RegExp(`cannot decompress the ${name} record batch at events/2@77`).test(error.message),
      )
    }
  })

  it('round-trips the test encoder through kafkajs-compatible record bytes', () => {
    // The test encoder must agree with kafkajs's record encoding, or the tests above prove little.
    const ours = encodeRecord({ offsetDelta: 3, timestampDelta: 25, key: 'k', value: 'v', headers: [['h', 'x']] })
    const theirs = (
      kafkajs.Record({
        offsetDelta: 3,
        timestampDelta: 25,
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        headers: { h: Buffer.from('x') },
      }) as { buffer: Buffer }
    ).buffer
    assert.deepEqual(ours, theirs)
  })
})
