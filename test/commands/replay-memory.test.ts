/**
 * Memory of replays as the number of aggregates grows: a file-backed replay keeps a bounded cache
 * of states, so its peak RSS does not grow with aggregates; an in-memory replay that would exhaust
 * the heap stops with exit 5 and a suggestion instead of a V8 out-of-memory abort.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runEs, runEsMeasured } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { produceOpenedAccounts } from '../support/loadgen.js'

const brokers = testBrokers()
const bankReducer = join(import.meta.dirname, '../../../examples/bank/reducer.js')

interface ReplayJson {
  complete: boolean
  events: number
  aggregates: number
}

describe('replay memory against the number of aggregates (real broker)', () => {
  const small = uniqueTopic('mem-200k')
  const large = uniqueTopic('mem-1m')
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-replay-memory-'))
    await createTopic(small, 4)
    await createTopic(large, 4)
    await produceOpenedAccounts(brokers, small, 200_000)
    await produceOpenedAccounts(brokers, large, 1_000_000)
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const replay = (topic: string, extra: string[]) =>
    runEsMeasured(
      [
        'replay',
        '--brokers',
        brokers,
        '--topic',
        topic,
        '--reducer',
        bankReducer,
        '--from-beginning',
        '--json',
        ...extra,
      ],
      { timeoutMs: 240_000 },
    )

  it('a file-backed replay of 1,000,000 aggregates peaks within 20 % of one of 200,000', async () => {
    const runs: Record<string, number> = {}
    for (const [name, topic, aggregates] of [
      ['200k', small, 200_000],
      ['1M', large, 1_000_000],
    ] as const) {
      const run = await replay(topic, ['--state', join(dir, `${name}.db`)])
      assert.equal(run.code, 0, run.stderr)
      const summary = JSON.parse(run.stdout) as ReplayJson
      assert.equal(summary.complete, true)
      assert.equal(summary.events, aggregates)
      assert.equal(summary.aggregates, aggregates)
      runs[name] = run.peakRssMb
    }
    assert.ok(
      runs['1M'] <= runs['200k'] * 1.2,
      `peak RSS ${runs['1M'].toFixed(0)} MB at 1M aggregates vs ${runs['200k'].toFixed(0)} MB at 200k`,
    )
  })

  it('an in-memory replay that outgrows the heap stops with exit 5, the aggregates reached and --state FILE', async () => {
    const run = await runEs(
      ['replay', '--brokers', brokers, '--topic', large, '--reducer', bankReducer, '--from-beginning'],
      { nodeArgs: ['--max-old-space-size=64'], timeoutMs: 240_000 },
    )
    assert.equal(run.code, 5, run.stderr)
    const lines = run.stderr.trim().split('\n')
    const error = lines.find((line) => line.startsWith('error:')) ?? ''
    assert.match(error, /heap/)
    assert.match(error, /[\d,]+ aggregates/)
    assert.match(run.stderr, /--state/)
    assert.doesNotMatch(run.stderr, /FATAL ERROR|JavaScript heap out of memory|at .+:\d+:\d+/)
  })
})
