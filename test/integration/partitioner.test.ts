/**
 * Partitioners against independent oracles, and reads of one key from one partition.
 * kcat (librdkafka) produces keyed records to 12-partition topics with `-X partitioner=…`
 * (murmur2_random: Java's and kafkajs' murmur2; consistent: crc32); es must compute the partition
 * each record landed on. Then `es tail --key` and `es replay --aggregate` read only the key's
 * partition (the records they read are counted) and find what a full scan finds.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Partitioners } from 'kafkajs'
import { partitionOf } from '../../src/kafka/partitioner.js'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { kcatConsume } from '../support/kcat.js'
import { seededRandom } from '../support/seeded-random.js'

const PARTITIONS = 12
const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

/** `kcat -P -K '\t' -X partitioner=<name>`: one record per [key, value]. */
async function kcatProduceWith(topic: string, partitioner: string, records: Array<[string, string]>): Promise<void> {
  const child = spawn(
    'kcat',
    ['-P', '-b', testBrokers(), '-t', topic, '-K', '\t', '-X', `partitioner=${partitioner}`],
    {
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', resolve)
  })
  child.stdin.end(`${records.map(([key, value]) => `${key}\t${value}`).join('\n')}\n`)
  assert.equal(await exited, 0, stderr)
}

/** Keys of 1 to 40 characters (every tail length of murmur2), some beyond ASCII. */
function someKeys(count: number): string[] {
  const random = seededRandom(12)
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:éü€中'
  return Array.from({ length: count }, (_, i) => {
    const length = 1 + (i % 40)
    return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
  })
}

describe('partitioners: es computes the partition librdkafka (kcat) and kafkajs chose', () => {
  const keys = someKeys(300)

  for (const [es, librdkafka] of [
    ['murmur2', 'murmur2_random'],
    ['crc32', 'consistent'],
    ['consistent_random', 'consistent_random'],
  ] as const) {
    it(`${es} = kcat -X partitioner=${librdkafka} on ${PARTITIONS} partitions`, async () => {
      const topic = uniqueTopic(`partitioner-${es}`)
      await createTopic(topic, PARTITIONS)
      await kcatProduceWith(
        topic,
        librdkafka,
        keys.map((key, i) => [key, `v${i}`]),
      )
      const records = await kcatConsume(testBrokers(), topic)
      assert.equal(records.length, keys.length)
      assert.ok(new Set(records.map((r) => r.partition)).size > 6, 'keys spread over the partitions')
      for (const record of records) {
        assert.equal(
          partitionOf(es, Buffer.from(record.key ?? '', 'utf8'), PARTITIONS),
          record.partition,
          record.key ?? '',
        )
      }
    })
  }

  it('murmur2 = kafkajs DefaultPartitioner (Java-compatible)', () => {
    const partitioner = Partitioners.DefaultPartitioner()
    const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }))
    for (const key of keys) {
      const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } })
      assert.equal(partitionOf('murmur2', Buffer.from(key), PARTITIONS), expected, key)
    }
  })
})

describe('one aggregate, one partition: es tail --key and es replay --aggregate (real broker)', () => {
  const brokers = testBrokers()
  const topic = uniqueTopic('partitioned-events')
  const commands = uniqueTopic('partitioned-commands')
  const aggregates = Array.from({ length: 60 }, (_, i) => `acc-${i}`)
  let dir: string
  let config: string
  let records: Awaited<ReturnType<typeof kcatConsume>>

  const es = (args: string[], input?: string) =>
    runEs([...args, '--config', config], { env: cleanEnv, input, timeoutMs: 60_000 })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-partitioner-'))
    await createTopic(topic, PARTITIONS)
    await createTopic(commands, PARTITIONS)
    const lines: Array<[string, string]> = []
    for (let version = 1; version <= 5; version++) {
      for (const id of aggregates) {
        lines.push([id, JSON.stringify({ type: 'Deposited', version, data: { amount: version } })])
      }
    }
    // A Java or kafkajs producer's partitioning: murmur2.
    await kcatProduceWith(topic, 'murmur2_random', lines)
    records = await kcatConsume(brokers, topic)
    config = join(dir, 'es.config.yaml')
    await writeFile(
      config,
      [
        `brokers: ${brokers}`,
        'services:',
        '  bank:',
        '    partitioner: murmur2',
        `    streams: { events: ${topic}, commands: ${commands} }`,
        '    codec: { key: string, value: json }',
        '    envelope: { type: $.type, id: $.id, aggregateId: key, version: $.version, payload: $.data }',
        '',
      ].join('\n'),
    )
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const partitionOfKey = (key: string) => {
    const partitions = new Set(records.filter((r) => r.key === key).map((r) => r.partition))
    assert.equal(partitions.size, 1)
    return [...partitions][0]
  }

  it('tail --key reads only the partition of the key and shows what a full scan shows', async () => {
    const key = 'acc-7'
    const inPartition = records.filter((r) => r.partition === partitionOfKey(key)).length
    assert.ok(inPartition < records.length / 2, 'the partition holds a part of the topic')
    const tail = (extra: string[]) => es(['tail', '--key', key, '--from', 'beginning', '-e', '-o', 'ndjson', ...extra])
    const [one, all] = [await tail([]), await tail(['--partitioner', 'none'])]
    assert.equal(one.code, 0, one.stderr)
    assert.equal(all.code, 0, all.stderr)
    // `5 of 25 records shown; complete at <topic> 7:25`
    const summary = (stderr: string) => {
      const match = /^(\d+) of (\d+) records shown; complete at \S+ (.*)$/m.exec(stderr)
      assert.ok(match, stderr)
      return {
        shown: Number(match[1]),
        read: Number(match[2]),
        partitions: match[3].split(' ').map((p) => Number(p.split(':')[0])),
      }
    }
    assert.deepEqual(summary(one.stderr), { shown: 5, read: inPartition, partitions: [partitionOfKey(key)] })
    assert.deepEqual(summary(all.stderr).read, records.length, 'a full scan reads every partition')
    assert.equal(one.stdout, all.stdout, 'the same records shown')
    assert.equal(one.stdout.trim().split('\n').length, 5)
  })

  it('snapshots <key> and --history read only the partition of the key; the same answer as a full scan', async () => {
    const key = 'acc-9'
    const inPartition = records.filter((r) => r.partition === partitionOfKey(key)).length
    const snapshot = (extra: string[]) => es(['snapshots', key, '--topic', topic, ...extra])
    // `1 snapshot from 25 records in <topic>`
    const readCount = (stderr: string) => Number(/from (\d+) records in/.exec(stderr)?.[1])
    for (const history of [[], ['--history']]) {
      const [one, all] = [await snapshot(history), await snapshot([...history, '--partitioner', 'none'])]
      assert.equal(one.code, 0, one.stderr)
      assert.equal(all.code, 0, all.stderr)
      assert.equal(readCount(one.stderr), inPartition, one.stderr)
      assert.equal(readCount(all.stderr), records.length, all.stderr)
      assert.equal(one.stdout, all.stdout, 'the same snapshot')
    }
    const missing = await es(['snapshots', 'acc-missing', '--topic', topic])
    assert.equal(missing.code, 6, missing.stderr)
    assert.match(missing.stderr, /where murmur2 puts the key: .*--partitioner none/)
  })

  it('replay --aggregate folds from the key partition only; the state equals a full scan', async () => {
    const key = 'acc-42'
    const one = await es(['replay', '--from-beginning', '--reducer', 'collect', '--aggregate', key, '--json'])
    const all = await es([
      'replay',
      '--from-beginning',
      '--reducer',
      'collect',
      '--aggregate',
      key,
      '--json',
      '--partitioner',
      'none',
    ])
    assert.equal(one.code, 0, one.stderr)
    assert.equal(all.code, 0, all.stderr)
    const [oneResult, allResult] = [JSON.parse(one.stdout), JSON.parse(all.stdout)]
    type Reach = { partition: number; start: number; reached: number }
    const read = (result: { partitions: Reach[] }) => result.partitions.reduce((n, p) => n + p.reached - p.start, 0)
    assert.deepEqual(
      oneResult.partitions.map((p: Reach) => p.partition),
      [partitionOfKey(key)],
    )
    assert.equal(read(oneResult), records.filter((r) => r.partition === partitionOfKey(key)).length)
    assert.equal(read(allResult), records.length)
    assert.equal(oneResult.events, 5)
    assert.deepEqual(oneResult.aggregateState, allResult.aggregateState)
  })

  it('a key in no record of its partition: said on stderr, with --partitioner none suggested', async () => {
    // crc32 sends acc-N elsewhere than the murmur2 producer did, for some N.
    const key = aggregates.find(
      (id) => partitionOf('crc32', Buffer.from(id), PARTITIONS) !== partitionOfKey(id),
    ) as string
    const tail = await es(['tail', '--key', key, '--from', 'beginning', '-e', '--partitioner', 'crc32'])
    assert.equal(tail.code, 0, tail.stderr)
    assert.match(tail.stderr, new RegExp(`no record with key ${key} in ${topic} partition \\d+.*--partitioner none`))
    const replay = await es([
      'replay',
      '--from-beginning',
      '--reducer',
      'collect',
      '--aggregate',
      key,
      '--partitioner',
      'crc32',
    ])
    assert.equal(replay.code, 0, replay.stderr)
    assert.match(replay.stderr, new RegExp(`no record with key ${key} in ${topic} partition \\d+.*--partitioner none`))
  })

  it('send-command produces with the same partitioner (crc32 as kcat -X partitioner=consistent)', async () => {
    const oracle = uniqueTopic('partitioned-oracle')
    await createTopic(oracle, PARTITIONS)
    const keys = ['acc-1', 'acc-2', 'acc-3', 'acc-4', 'acc-5', 'acc-6']
    await kcatProduceWith(
      oracle,
      'consistent',
      keys.map((k) => [k, '{}']),
    )
    const expected = Object.fromEntries((await kcatConsume(brokers, oracle)).map((r) => [r.key, r.partition]))
    for (const key of keys.slice(0, 2)) {
      const one = await es(['send-command', 'Deposit', '--key', key, '--data', '{}', '--partitioner', 'crc32'])
      assert.equal(one.code, 0, one.stderr)
      assert.match(one.stderr, new RegExp(`to ${commands}/${expected[key]}@`))
    }
    const batch = await es(
      ['send-command', 'Deposit', '--batch', '-', '--partitioner', 'crc32'],
      keys.map((key) => JSON.stringify({ key, data: {} })).join('\n'),
    )
    assert.equal(batch.code, 0, batch.stderr)
    const sent = (await kcatConsume(brokers, commands)).filter((r) => keys.includes(r.key ?? ''))
    assert.equal(sent.length, keys.length + 2)
    for (const record of sent) assert.equal(record.partition, expected[record.key ?? ''], record.key ?? '')
  })
})
