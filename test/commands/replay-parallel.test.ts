/**
 * Parallel replays (partition groups folded in worker threads) must give exactly the state of a
 * single-threaded replay, in memory and in a state file that a later run resumes from.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { groupRanges, parallelism } from '../../src/replay/parallel-fold.js'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { loadgen, writeLoadgenConfig } from '../support/loadgen.js'

describe('partition grouping', () => {
  it('balances ranges by record count and never uses more workers than busy partitions', () => {
    const ranges = [
      { topic: 't', partition: 0, start: 0, end: 100 },
      { topic: 't', partition: 1, start: 0, end: 10 },
      { topic: 't', partition: 2, start: 0, end: 60 },
      { topic: 't', partition: 3, start: 5, end: 5 },
      { topic: 't', partition: 4, start: 0, end: 50 },
    ]
    const groups = groupRanges(ranges, 2)
    const sizes = groups.map((g) => g.reduce((s, r) => s + ((r.end ?? r.start) - r.start), 0)).sort((a, b) => a - b)
    assert.deepEqual(sizes, [110, 110])
    assert.equal(groups.flat().length, 5)
    assert.equal(parallelism(ranges, 8), 4)
    assert.equal(parallelism([{ topic: 't', partition: 0, start: 3, end: 3 }], 4), 1)
  })
})

describe('es replay --workers (real broker)', () => {
  let dir: string
  let config: string
  const topic = uniqueTopic('parallel-events')

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-parallel-'))
    await createTopic(topic, 4)
    await loadgen([
      '--brokers',
      testBrokers(),
      '--events',
      '30000',
      '--accounts',
      '700',
      '--topic',
      topic,
      '--partitions',
      '4',
    ])
    config = join(dir, 'es.config.yaml')
    await writeLoadgenConfig(config, testBrokers(), topic)
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('folds to the same state with 1 and 3 threads, in memory', async () => {
    const outputs: string[] = []
    for (const workers of ['1', '3']) {
      const out = join(dir, `state-${workers}.ndjson`)
      const run = await runEs(
        ['replay', '--config', config, '--from-beginning', '--workers', workers, '--out', out, '--json'],
        { timeoutMs: 120_000 },
      )
      assert.equal(run.code, 0, run.stderr)
      const summary = JSON.parse(run.stdout)
      assert.equal(summary.workers, Number(workers))
      assert.equal(summary.events, 30000)
      assert.equal(summary.complete, true)
      outputs.push(await readFile(out, 'utf8'))
    }
    assert.equal(outputs[0].split('\n').length > 600, true)
    assert.equal(outputs[1], outputs[0])
  })

  it('without --out, threads only count their aggregates: the same count as the single-threaded fold', async () => {
    const counts: number[] = []
    for (const workers of ['1', '3']) {
      const run = await runEs(['replay', '--config', config, '--from-beginning', '--workers', workers, '--json'], {
        timeoutMs: 120_000,
      })
      assert.equal(run.code, 0, run.stderr)
      const summary = JSON.parse(run.stdout)
      assert.equal(summary.workers, Number(workers))
      counts.push(summary.aggregates)
    }
    assert.ok(counts[0] > 600, `aggregates: ${counts[0]}`)
    assert.equal(counts[1], counts[0])
  })

  it('writes a state file a later single-threaded run resumes from', async () => {
    const state = join(dir, 'state.db')
    const first = await runEs(
      ['replay', '--config', config, '--from-beginning', '--workers', '2', '--state', state, '--json'],
      { timeoutMs: 120_000 },
    )
    assert.equal(first.code, 0, first.stderr)
    assert.equal(JSON.parse(first.stdout).workers, 2)
    const resumed = await runEs(
      ['replay', '--config', config, '--state', state, '--out', join(dir, 'resumed.ndjson'), '--json'],
      { timeoutMs: 120_000 },
    )
    assert.equal(resumed.code, 0, resumed.stderr)
    const summary = JSON.parse(resumed.stdout)
    assert.equal(summary.resumed, true)
    assert.equal(summary.events, 0, 'nothing left to fold: the parallel run committed every offset')
    assert.equal(
      await readFile(join(dir, 'resumed.ndjson'), 'utf8'),
      await readFile(join(dir, 'state-1.ndjson'), 'utf8'),
    )
  })
})
