/**
 * `es topics` on the real broker, checked against Kafka's own tools (TopicCommand for partitions,
 * replication and configs; GetOffsetShell for earliest/latest offsets) and kcat (-L for replicas,
 * the last record's timestamp per partition).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import type { TopicsResult } from '../../src/admin/topics.js'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { kafkaTool, toolOffsets } from '../support/kafka-tools.js'
import { kcatProduce } from '../support/kcat.js'

const execFileAsync = promisify(execFile)
const brokers = testBrokers()

describe('es topics', () => {
  const prefix = uniqueTopic('topics')
  const compacted = `${prefix}.accounts`
  const plain = `${prefix}.orders`
  const empty = `${prefix}.empty`
  const internal = `_${prefix}.internal`

  before(async () => {
    await createTopic(compacted, 3, [{ name: 'cleanup.policy', value: 'compact' }])
    await createTopic(plain, 2)
    await createTopic(empty, 1)
    await createTopic(internal, 1)
    await kcatProduce(
      brokers,
      compacted,
      Array.from({ length: 30 }, (_, n) => [`k${n}`, `{"n":${n}}`]),
    )
    await kcatProduce(
      brokers,
      plain,
      Array.from({ length: 11 }, (_, n) => [`o${n}`, `order ${n}`]),
    )
    await kcatProduce(brokers, internal, [['x', 'y']])
    // A log start above 0 on one partition: earliest must be the broker's, not 0.
    const admin = testKafka().admin()
    await admin.connect()
    try {
      await admin.fetchTopicMetadata({ topics: [plain] })
      await admin.deleteTopicRecords({ topic: plain, partitions: [{ partition: 0, offset: '2' }] })
    } finally {
      await admin.disconnect()
    }
  })

  it('lists partitions, replication, cleanup policy, offsets, counts and last record times as Kafka reports them', async () => {
    const run = await runEs(['topics', prefix, '--json', '--brokers', brokers])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as TopicsResult
    assert.deepEqual(
      result.topics.map((t) => t.name),
      [compacted, empty, plain],
    )
    assert.equal(result.hiddenInternal, 1, `${internal} matches the pattern too, and is hidden`)

    const earliest = await toolOffsets(brokers, `${prefix}.*`, -2)
    const latest = await toolOffsets(brokers, `${prefix}.*`, -1)
    const { stdout: kcatList } = await execFileAsync('kcat', ['-L', '-J', '-b', brokers])
    const kcatTopics = (
      JSON.parse(kcatList) as {
        topics: Array<{ topic: string; partitions: Array<{ partition: number; replicas: Array<{ id: number }> }> }>
      }
    ).topics
    for (const topic of result.topics) {
      const described = await kafkaTool('org.apache.kafka.tools.TopicCommand', [
        '--bootstrap-server',
        brokers,
        '--describe',
        '--topic',
        topic.name,
      ])
      const head = described.split('\n').find((l) => l.startsWith('Topic:') && l.includes('PartitionCount'))!
      assert.equal(topic.partitions, Number(/PartitionCount: (\d+)/.exec(head)![1]), head)
      assert.equal(topic.replicationFactor, Number(/ReplicationFactor: (\d+)/.exec(head)![1]), head)
      // TopicCommand lists only the configs set on the topic: cleanup.policy=compact, or nothing (delete).
      const policy = /cleanup\.policy=([a-z,]+)/.exec(head)?.[1] ?? 'delete'
      assert.equal(topic.cleanupPolicy, policy, head)

      const kcatTopic = kcatTopics.find((t) => t.topic === topic.name)!
      let records = 0
      for (const p of topic.partitionDetails) {
        const where = `${topic.name}:${p.partition}`
        assert.equal(p.earliest, earliest.get(where), `earliest of ${where}`)
        assert.equal(p.latest, latest.get(where), `latest of ${where}`)
        records += p.latest - p.earliest
        const kcatPartition = kcatTopic.partitions.find((kp) => kp.partition === p.partition)!
        assert.deepEqual(
          p.replicas,
          kcatPartition.replicas.map((r) => r.id),
        )
        // kcat: the last record of the partition, its timestamp.
        const { stdout: last } = await execFileAsync('kcat', [
          '-C',
          '-b',
          brokers,
          '-t',
          topic.name,
          '-p',
          String(p.partition),
          '-o',
          '-1',
          '-e',
          '-q',
          '-f',
          '%T\\n',
        ])
        const lastTime = last.trim() === '' ? null : new Date(Number(last.trim())).toISOString()
        assert.equal(p.lastRecordAt, lastTime, `last record of ${where}`)
      }
      assert.equal(topic.records, records)
      const times = topic.partitionDetails
        .map((p) => p.lastRecordAt)
        .filter((t) => t !== null)
        .sort()
      assert.equal(topic.lastRecordAt, times.at(-1) ?? null)
    }
    const plainTopic = result.topics.find((t) => t.name === plain)!
    assert.equal(plainTopic.records, 9, '11 records, 2 deleted from partition 0')
    assert.equal(result.topics.find((t) => t.name === empty)!.lastRecordAt, null)
  })

  it('hides internal topics unless --all, and says how many it hid', async () => {
    const hidden = await runEs(['topics', `_${prefix}*`, '--brokers', brokers, '--json'])
    assert.equal(hidden.code, 0, hidden.stderr)
    const withoutAll = JSON.parse(hidden.stdout) as TopicsResult
    assert.deepEqual(withoutAll.topics, [])
    assert.equal(withoutAll.hiddenInternal, 1)
    const all = JSON.parse(
      (await runEs(['topics', `_${prefix}*`, '--all', '--brokers', brokers, '--json'])).stdout,
    ) as TopicsResult
    assert.deepEqual(
      all.topics.map((t) => [t.name, t.internal, t.records]),
      [[internal, true, 1]],
    )
    // __consumer_offsets exists once a group has committed; it too is hidden without --all.
    const table = await runEs(['topics', '--brokers', brokers])
    assert.equal(table.code, 0, table.stderr)
    assert.ok(table.stdout.includes(plain), table.stdout)
    assert.ok(!table.stdout.includes(internal), table.stdout)
    assert.ok(!table.stdout.includes('__consumer_offsets'), table.stdout)
    assert.match(table.stderr, /internal hidden \(--all shows them\)/)
  })
})
