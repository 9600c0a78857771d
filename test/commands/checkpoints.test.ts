/**
 * `es checkpoints` on the real broker: committed offsets set with Kafka's admin API (kafkajs),
 * records written by kcat, retention simulated with DeleteRecords. Each finding and each reset is
 * checked against what the broker then holds.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { kcatProduce } from '../support/kcat.js'

const brokers = testBrokers()

interface Report {
  group: string
  unsafe: boolean
  partitions: Array<{
    partition: number
    committed: number | null
    start: number
    end: number
    lag: number | null
    status: string
    lost?: number
    committedAt?: string
    newestAt?: string
  }>
  reset?: {
    executed: boolean
    rows: Array<{
      partition: number
      committed: number | null
      target: number
      replayed: number | null
      from?: string
      until?: string
    }>
  }
}

async function withAdmin<T>(
  work: (admin: ReturnType<ReturnType<typeof testKafka>['admin']>) => Promise<T>,
): Promise<T> {
  const admin = testKafka().admin()
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.disconnect()
  }
}

const commit = (group: string, topic: string, offsets: number[]) =>
  withAdmin((admin) =>
    admin.setOffsets({
      groupId: group,
      topic,
      partitions: offsets.map((offset, partition) => ({ partition, offset: String(offset) })),
    }),
  )

const committedOffsets = (group: string, topic: string) =>
  withAdmin(async (admin) => {
    const [fetched] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    return fetched.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset))
  })

async function checkpoints(args: string[]): Promise<{ code: number; report: Report; stderr: string; stdout: string }> {
  const run = await runEs(['checkpoints', ...args, '--brokers', brokers, '--json'], { env: { ES_CONFIG: undefined } })
  let report: Report
  try {
    report = JSON.parse(run.stdout)
  } catch {
    assert.fail(`no JSON from es checkpoints (exit ${run.code}): ${run.stdout}\n${run.stderr}`)
  }
  return { code: run.code, report, stderr: run.stderr, stdout: run.stdout }
}

describe('es checkpoints on the real broker', () => {
  async function topicWithRecords(partitions: number, perPartition: number): Promise<string> {
    const topic = uniqueTopic('es-checkpoints')
    await createTopic(topic, partitions)
    const records: Array<[string, string]> = []
    // kcat's default partitioner spreads keys; each key's records stay in one partition.
    for (let i = 0; i < partitions * perPartition * 4; i++) records.push([`k${i % 16}`, `{"n":${i}}`])
    await kcatProduce(brokers, topic, records)
    return topic
  }

  it('reports lag and the times of the last consumed and newest events; exit 0 while the checkpoint is safe', async () => {
    const topic = await topicWithRecords(1, 10)
    const group = uniqueTopic('cp-behind')
    await commit(group, topic, [12])
    const { code, report } = await checkpoints([group])
    assert.equal(code, 0)
    const [p0] = report.partitions
    assert.deepEqual([p0.committed, p0.start, p0.end, p0.lag, p0.status], [12, 0, 40, 28, 'behind'])
    assert.match(p0.committedAt ?? '', /^\d{4}-\d\d-\d\dT/)
    assert.match(p0.newestAt ?? '', /^\d{4}-\d\d-\d\dT/)
    assert.equal(report.unsafe, false)
  })

  it('flags a checkpoint past the log end and one below the log start (events lost), exit 1', async () => {
    const topic = await topicWithRecords(2, 10)
    // Retention, in effect: the first 6 records of partition 1 are deleted.
    await withAdmin(async (admin) => {
      await admin.fetchTopicMetadata({ topics: [topic] })
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '6' }] })
    })
    const group = uniqueTopic('cp-unsafe')
    await commit(group, topic, [500, 2])
    const { code, report, stderr } = await checkpoints([group])
    assert.equal(code, 1, stderr)
    assert.equal(report.unsafe, true)
    assert.deepEqual(
      report.partitions.map((p) => [p.partition, p.status, p.lost]),
      [
        [0, 'past-end', undefined],
        [1, 'below-start', 4],
      ],
    )
  })

  it('--reset-to is a dry run until --execute; refused while the group has a member; unknown groups exit 6', async () => {
    const topic = await topicWithRecords(1, 10)
    const group = uniqueTopic('cp-reset')
    await commit(group, topic, [30])

    const dry = await checkpoints([group, '--reset-to', '-5'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.deepEqual(
      dry.report.reset?.rows.map((r) => [r.committed, r.target, r.replayed]),
      [[30, 35, -5]],
    )
    assert.ok(dry.report.reset?.rows[0].from && dry.report.reset.rows[0].until, 'the time span of the skipped events')
    assert.equal(dry.report.reset?.executed, false)
    assert.deepEqual(await committedOffsets(group, topic), [30], 'a dry run changes nothing')

    const applied = await checkpoints([group, '--reset-to', 'beginning', '--execute'])
    assert.equal(applied.code, 0, applied.stderr)
    assert.equal(applied.report.reset?.executed, true)
    assert.deepEqual(await committedOffsets(group, topic), [0])

    const consumer = testKafka().consumer({ groupId: group })
    await consumer.connect()
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()))
    await consumer.subscribe({ topic })
    // Slow on purpose: the member must stay in the group, not commit its way to the end.
    await consumer.run({ autoCommit: false, eachMessage: async () => {} })
    await joined
    try {
      const refused = await runEs(['checkpoints', group, '--brokers', brokers, '--reset-to', 'end', '--execute'], {
        env: { ES_CONFIG: undefined },
      })
      assert.equal(refused.code, 1, refused.stderr)
      assert.match(refused.stderr, new RegExp(`refused: consumer group ${group} has 1 active member`))
    } finally {
      await consumer.disconnect()
    }
    assert.deepEqual(await committedOffsets(group, topic), [0], 'nothing was changed')

    const unknown = await runEs(['checkpoints', uniqueTopic('cp-none'), '--brokers', brokers])
    assert.equal(unknown.code, 6, unknown.stderr)
    assert.match(unknown.stderr, /has no committed offsets/)
  })
})
