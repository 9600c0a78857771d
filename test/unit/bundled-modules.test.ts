/**
 * kafkajs, oclif and yaml as es loads them (src/bundled-modules.ts): one bundled file each, compiled with
 * the code cache the build wrote for this Node.js, once per thread; es's producer encoding in
 * the bundled kafkajs.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { codeCacheUse, loadBundled } from '../../src/bundled-modules.js'
import { importKafkajs, loadKafkajsInternals } from '../../src/kafka/kafkajs-internals.js'

describe('bundled modules', () => {
  it('loads kafkajs, oclif and yaml once each, with the code cache written by the build', () => {
    for (const name of ['kafkajs', 'oclif', 'yaml'] as const) {
      assert.equal(codeCacheUse(name), undefined, `${name}: not loaded before`)
      const first = loadBundled<object>(name)
      assert.equal(loadBundled<object>(name), first, `${name}: one copy`)
      assert.equal(codeCacheUse(name), 'accepted', name)
    }
    const oclif = loadBundled<{ core: { Command: unknown; Flags: unknown; execute: unknown } }>('oclif')
    assert.equal(typeof oclif.core.Command, 'function')
    assert.equal(typeof oclif.core.execute, 'function')
    const yaml = loadBundled<{ core: typeof import('yaml') }>('yaml')
    assert.deepEqual(yaml.core.parse('a: [1, two]'), { a: [1, 'two'] })
  })

  it("installs es's Produce request and grouping in the bundled kafkajs", async () => {
    loadKafkajsInternals()
    const bundle = loadBundled<{ producerHooks: Record<string, unknown> }>('kafkajs')
    assert.deepEqual(Object.keys(bundle.producerHooks).sort(), ['groupMessagesPerPartition', 'produceRequest'])
    const kafkajs = await importKafkajs()
    assert.equal(typeof kafkajs.Kafka, 'function')
    assert.equal(kafkajs, (await importKafkajs()) as unknown, 'one public module')
  })
})
