/**
 * Helpers for tests that talk to the real broker started by test/run.ts (`ES_TEST_BROKERS`).
 * Every test uses its own topics (`uniqueTopic`) so tests never see each other's data.
 */
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'

export function testBrokers(): string {
  const brokers = process.env.ES_TEST_BROKERS
  if (!brokers) throw new Error('ES_TEST_BROKERS is not set: run tests through `npm test` (test/run.ts)')
  return brokers
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export function testKafka(): Kafka {
  return new Kafka({ clientId: 'es-test', brokers: testBrokers().split(','), logLevel: logLevel.NOTHING })
}

/** The end offset (high watermark) of each partition of `topic`, as `{partition: offset}`. */
export async function endOffsets(topic: string): Promise<Record<number, number>> {
  const admin = testKafka().admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return Object.fromEntries(offsets.map((o) => [o.partition, Number(o.high)]))
  } finally {
    await admin.disconnect()
  }
}

/**
 * Creates a topic and waits until every partition has a leader, tolerating the race where the
 * broker answers the leaders' metadata with UNKNOWN_TOPIC_OR_PARTITION just after creating it.
 */
export async function createTopic(
  name: string,
  partitions = 1,
  configEntries: Array<{ name: string; value: string }> = [],
): Promise<void> {
  const admin = testKafka().admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, configEntries }] })
    for (let attempt = 0; ; attempt++) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [name] })
        if (topics[0]?.partitions.length === partitions && topics[0].partitions.every((p) => p.leader >= 0)) return
      } catch (error) {
        if (attempt > 100) throw error
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } finally {
    await admin.disconnect()
  }
}
