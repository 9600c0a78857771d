/**
 * `es diff` against a read model whose record cannot be decoded (issue #8.3): the real binary, the
 * real broker, a topic read model written by kcat with one value that is not JSON.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { kcatProduce } from '../support/kcat.js'

const brokers = testBrokers()

describe('es diff with an undecodable read-model record', () => {
  const events = uniqueTopic('es-diff-undecodable-events')
  const snapshots = uniqueTopic('es-diff-undecodable-rm')
  let dir: string
  let config: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-diff-undecodable-'))
    config = join(dir, 'es.config.json')
    await writeFile(
      config,
      JSON.stringify({
        brokers,
        services: {
          calc: {
            streams: { events },
            codec: { key: 'string', value: 'json' },
            projections: { values: { reducer: 'latest', readModel: { type: 'topic', topic: snapshots } } },
          },
        },
      }),
    )
    await createTopic(events, 1)
    await createTopic(snapshots, 1)
    await kcatProduce(brokers, events, [
      ['a', '{"n":1}'],
      ['b', '{"n":2}'],
    ])
    await kcatProduce(brokers, snapshots, [
      ['a', '{"n":1}'],
      ['b', '{"n": oops'],
    ])
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('#8.3 reports the record as undecodable with its error, in the table and in --json', async () => {
    const json = await runEs(['diff', 'values', '--config', config, '--json'])
    assert.equal(json.code, 1, json.stderr)
    const report = JSON.parse(json.stdout) as {
      drift: boolean
      counts: { undecodable?: number; changed: number }
      details: Array<{ kind: string; aggregateId: string; error?: string }>
    }
    assert.equal(report.drift, true)
    assert.deepEqual(
      report.details.map((d) => [d.kind, d.aggregateId]),
      [['undecodable', 'b']],
    )
    assert.match(report.details[0].error!, /JSON/)
    assert.equal(report.counts.undecodable, 1)
    assert.equal(report.counts.changed, 0)

    const table = await runEs(['diff', 'values', '--config', config], { env: { NO_COLOR: '1' } })
    assert.equal(table.code, 1, table.stderr)
    const line = table.stdout.split('\n').find((l) => l.includes(' b '))!
    assert.match(line, /undecodable/)
    assert.match(line, /JSON/)
    assert.doesNotMatch(table.stdout, /no value/)
  })
})
