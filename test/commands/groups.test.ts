/**
 * `es groups` on the real broker, with a live kafkajs consumer (a Stable group) and a group whose
 * offsets were set with no member (Empty), checked against Kafka's own kafka-consumer-groups
 * (ConsumerGroupCommand --describe, and --describe --state).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { GroupsResult } from '../../src/admin/groups.js'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { kafkaTool } from '../support/kafka-tools.js'
import { kcatProduce } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'

const brokers = testBrokers()
const GROUP_TOOL = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'

describe('es groups', () => {
  const prefix = uniqueTopic('groups')
  const orders = `${prefix}.orders`
  const payments = `${prefix}.payments`
  const live = `${prefix}-live`
  const idle = `${prefix}-idle`
  const kafka = testKafka()
  const consumer = kafka.consumer({ groupId: live })

  before(async () => {
    await createTopic(orders, 2)
    await createTopic(payments, 2)
    await kcatProduce(
      brokers,
      orders,
      Array.from({ length: 10 }, (_, n) => [`o${n}`, `order ${n}`]),
    )
    await kcatProduce(
      brokers,
      payments,
      Array.from({ length: 10 }, (_, n) => [`p${n}`, `payment ${n}`]),
    )
    // The live group reads orders to the end, commits, then pauses: 4 more records are its lag.
    await consumer.connect()
    await consumer.subscribe({ topic: orders, fromBeginning: true })
    let seen = 0
    await consumer.run({
      autoCommitThreshold: 1,
      eachMessage: async () => {
        seen++
      },
    })
    await waitFor(
      'the live consumer to read 10 records',
      () => seen,
      (n) => n >= 10,
    )
    const admin = kafka.admin()
    await admin.connect()
    try {
      await waitFor(
        'its commits',
        async () => (await admin.fetchOffsets({ groupId: live, topics: [orders] }))[0].partitions,
        (ps) => ps.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) === 10,
      )
      consumer.pause([{ topic: orders }])
      await kcatProduce(
        brokers,
        orders,
        Array.from({ length: 4 }, (_, n) => [`late${n}`, `late ${n}`]),
      )
      // The idle group: offsets set without members, on payments only.
      await admin.setOffsets({
        groupId: idle,
        topic: payments,
        partitions: [
          { partition: 0, offset: '1' },
          { partition: 1, offset: '0' },
        ],
      })
    } finally {
      await admin.disconnect()
    }
  })

  after(async () => {
    await consumer.disconnect()
  })

  it('lists state, members, topics and lag as kafka-consumer-groups reports them', async () => {
    const run = await runEs(['groups', prefix, '--json', '--brokers', brokers])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as GroupsResult
    assert.deepEqual(
      result.groups.map((g) => g.group),
      [idle, live],
    )

    const offsets = await kafkaTool(GROUP_TOOL, [
      '--bootstrap-server',
      brokers,
      '--describe',
      '--group',
      live,
      '--group',
      idle,
    ])
    const rows = offsets
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f.length >= 6 && (f[0] === live || f[0] === idle))
    const states = await kafkaTool(GROUP_TOOL, [
      '--bootstrap-server',
      brokers,
      '--describe',
      '--state',
      '--group',
      live,
      '--group',
      idle,
    ])
    for (const group of result.groups) {
      const mine = rows.filter((f) => f[0] === group.group)
      assert.ok(mine.length > 0, offsets)
      assert.deepEqual(group.topics, [...new Set(mine.map((f) => f[1]))].sort())
      const lag = mine.reduce((sum, f) => sum + (f[5] === '-' ? 0 : Number(f[5])), 0)
      assert.equal(group.lag, lag, offsets)
      for (const f of mine) {
        const p = group.partitions.find((x) => x.topic === f[1] && x.partition === Number(f[2]))!
        assert.equal(p.committed, f[3] === '-' ? null : Number(f[3]), offsets)
        assert.equal(p.latest, Number(f[4]), offsets)
      }
      const stateLine = states
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find((f) => f[0] === group.group)!
      assert.equal(group.state, stateLine.at(-2), states)
      assert.equal(group.members, Number(stateLine.at(-1)), states)
    }
    const byName = Object.fromEntries(result.groups.map((g) => [g.group, g]))
    assert.deepEqual([byName[live].state, byName[live].members, byName[live].lag], ['Stable', 1, 4])
    assert.deepEqual(
      [byName[idle].state, byName[idle].members, byName[idle].lag],
      ['Empty', 0, 10 - 1],
      'committed 1 and 0 on the 10 payments',
    )
  })

  it('shows a table, and nothing for a pattern matching no group', async () => {
    const table = await runEs(['groups', `${prefix}-l*`, '--brokers', brokers])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, new RegExp(`${live}.*Stable.*1.*${orders}.*4`))
    assert.ok(!table.stdout.includes(idle))
    const none = await runEs(['groups', 'no-such-group-*', '--brokers', brokers, '--json'])
    assert.deepEqual(JSON.parse(none.stdout), { groups: [] })
  })
})
