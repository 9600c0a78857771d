/**
 * The bank load generator on the real broker: what it writes, read back by kcat (with CRC checks),
 * must be valid event streams whose fold is the total it reports, and commands the command handler
 * accepts one by one.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../src/local/broker.js'
import { testBrokers, uniqueTopic } from '../support/kafka.js'
import { type KcatRecord, kcatConsume } from '../support/kcat.js'
import { waitFor } from '../support/poll.js'
import { ServiceProcess } from '../support/service-process.js'

const bankDir = join(dirname(fileURLToPath(import.meta.url)), '../../examples/bank')
const loadgen = join(bankDir, 'loadgen.js')

interface Summary {
  mode: string
  topic: string
  partitions: number
  messages: number
  accountsTouched: number
  totalBalance: number
  bytes: number
  messagesPerSecond: number
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [loadgen, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`loadgen ${args.join(' ')} did not finish in 120 s\n${stderr}`))
    }, 120_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Checks every account's stream and returns the sum of the balances. */
function checkStreams(records: KcatRecord[]): { total: number; accounts: number } {
  const accounts = new Map<string, { version: number; balance: number; partition: number }>()
  for (const record of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const event = JSON.parse(record.payload ?? 'null')
    const key = record.key ?? ''
    const where = `${record.partition}@${record.offset} (${key})`
    assert.equal(event.aggregateId, key, `aggregateId is the key at ${where}`)
    const state = accounts.get(key) ?? { version: 0, balance: 0, partition: record.partition }
    assert.equal(record.partition, state.partition, `one partition per account at ${where}`)
    assert.equal(event.version, state.version + 1, `consecutive versions at ${where}`)
    assert.equal(event.type === 'AccountOpened', event.version === 1, `AccountOpened first at ${where}`)
    assert.match(event.id, /^[0-9a-f-]{36}$/)
    assert.match(event.causationId, /^[0-9a-f-]{36}$/)
    if (event.type === 'FundsDeposited') state.balance += event.data.amount
    if (event.type === 'FundsWithdrawn') state.balance -= event.data.amount
    assert.ok(state.balance >= 0, `never overdrawn at ${where}`)
    state.version = event.version
    accounts.set(key, state)
  }
  return { total: [...accounts.values()].reduce((sum, s) => sum + s.balance, 0), accounts: accounts.size }
}

describe('bank loadgen on the real broker', () => {
  const brokers = testBrokers()
  const services: ServiceProcess[] = []

  after(async () => {
    for (const service of services) assert.equal(await service.stop(), 0, service.stderr)
  })

  for (const client of ['wire', 'kafkajs']) {
    it(`writes valid event streams whose fold is the reported total (--client ${client})`, async () => {
      const topic = uniqueTopic(`bank-loadgen-${client}`)
      const result = await run([
        '--brokers',
        brokers,
        '--events',
        '5000',
        '--accounts',
        '40',
        '--partitions',
        '3',
        '--topic',
        topic,
        '--batch',
        '700',
        '--client',
        client,
        '--json',
      ])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /5,000 events → .* events\/s/)
      const summary = JSON.parse(result.stdout) as Summary
      assert.equal(summary.messages, 5000)
      assert.equal(summary.partitions, 3)

      const records = await kcatConsume(brokers, topic, ['-X', 'check.crcs=true'])
      assert.equal(records.length, 5000)
      assert.deepEqual(new Set(records.map((r) => r.partition)), new Set([0, 1, 2]))
      const { total, accounts } = checkStreams(records)
      assert.equal(total, summary.totalBalance)
      assert.equal(accounts, summary.accountsTouched)
      const meanBytes = summary.bytes / summary.messages
      assert.ok(meanBytes > 150 && meanBytes < 300, `~200-byte values, got ${meanBytes}`)
    })
  }

  it('writes commands the command handler accepts, one event each', async () => {
    const commands = uniqueTopic('bank-loadgen-commands')
    const events = uniqueTopic('bank-loadgen-events')
    const result = await run([
      '--brokers',
      brokers,
      '--commands',
      '600',
      '--accounts',
      '15',
      '--topic',
      commands,
      '--json',
    ])
    assert.equal(result.code, 0, result.stderr)
    const summary = JSON.parse(result.stdout) as Summary
    const handler = await ServiceProcess.start(
      'command-handler',
      join(bankDir, 'command-handler.js'),
      [
        '--brokers',
        brokers,
        '--commands-topic',
        commands,
        '--events-topic',
        events,
        '--group',
        uniqueTopic('bank-loadgen-handler'),
      ],
      { ready: /started:/ },
    )
    services.push(handler)
    const records = await waitFor(
      '600 events',
      () => kcatConsume(brokers, events),
      (r) => r.length >= 600,
    )
    assert.equal(records.length, 600)
    const rejected = records.filter((r) => r.payload?.includes('"CommandRejected"'))
    assert.deepEqual(rejected, [], 'no command is rejected')
    const { total, accounts } = checkStreams(records)
    assert.equal(total, summary.totalBalance)
    assert.equal(accounts, summary.accountsTouched)
  })

  it('refuses bad usage with exit 2 and an unreachable broker with exit 4, in one line', async () => {
    const usage = await run(['--brokers', brokers])
    assert.equal(usage.code, 2)
    assert.equal(usage.stderr.trim().split('\n').length, 1, usage.stderr)
    assert.match(usage.stderr, /exactly one of --events N or --commands N/)

    const unreachable = await run(['--brokers', `127.0.0.1:${await freePort()}`, '--events', '10'])
    assert.equal(unreachable.code, 4, unreachable.stderr)
    assert.equal(unreachable.stderr.trim().split('\n').length, 1, unreachable.stderr)
    assert.match(unreachable.stderr, /cannot reach Kafka/)
  })
})
