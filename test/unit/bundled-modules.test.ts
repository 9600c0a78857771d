/**
 * kafkajs, oclif, yaml and the config validator as es loads them (src/bundled-modules.ts): one
 * bundled file each, compiled with the code cache the build wrote for this Node.js, once per thread; es's producer encoding in
 * the bundled kafkajs.
 */
import assert from 'node:assert/strict'
import { isAscii } from 'node:buffer'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { runInThisContext } from 'node:vm'
import { codeCacheUse, loadBundled } from '../../src/bundled-modules.js'
import { importKafkajs, loadKafkajsInternals } from '../../src/kafka/kafkajs-internals.js'
import { packageFile } from '../../src/package-root.js'

describe('bundled modules', () => {
  it('loads kafkajs, oclif, yaml and the config validator once each, with the code cache written by the build', () => {
    for (const name of ['kafkajs', 'oclif', 'yaml', 'config-validator'] as const) {
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
    const validate = loadBundled<(document: unknown) => boolean>('config-validator')
    assert.equal(validate({ brokers: 'x:9092' }), true)
    assert.equal(validate({ brokers: 9092 }), false)
  })

  it("orders commands as oclif's localeCompare did (the bundle compares ids by code unit)", async () => {
    const manifests = ['oclif.manifest.json', 'node_modules/@oclif/plugin-autocomplete/oclif.manifest.json']
    for (const manifest of manifests) {
      const ids = Object.keys(JSON.parse(await readFile(packageFile(manifest), 'utf8')).commands as object)
      assert.ok(ids.length > 1, manifest)
      const byCodeUnit = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      assert.deepEqual(
        byCodeUnit,
        [...ids].sort((a, b) => a.localeCompare(b)),
        manifest,
      )
    }
  })

  it("loads a command's bundle with its code cache, extending the bundled oclif's Command", () => {
    const { core } = loadBundled<{ core: { Command: abstract new (...args: never[]) => unknown } }>('oclif')
    const tail = loadBundled<{ default: unknown }>('commands/tail').default
    assert.equal(codeCacheUse('commands/tail'), 'accepted')
    assert.ok(typeof tail === 'function' && tail.prototype instanceof core.Command, 'one oclif')
  })

  it('holds every bundle in ASCII, which means the same code (a one-byte string for Node.js)', async () => {
    const dir = packageFile('dist/vendor')
    const bundles = (await readdir(dir, { recursive: true })).filter((file) => file.endsWith('.cjs'))
    assert.ok(bundles.length >= 20, bundles.join(' '))
    for (const file of [...bundles.map((b) => join(dir, b)), packageFile('dist/src/config/config-validator.cjs')]) {
      assert.ok(isAscii(await readFile(file)), file)
    }
    // The escaping of scripts/ascii-source.mjs keeps strings, templates, regular expressions and names.
    const { asciiSource } = (await import(pathToFileURL(packageFile('scripts/ascii-source.mjs')).href)) as {
      asciiSource(code: string): string
    }
    const code =
      '(() => { const café = "±2^53 — ✓ 😀"; /* ¥ */ return [café, `é$' +
      '{1}`, /[\\u001b\u009b]é/.test("\u009bé"), /😀/u.test("😀")] })()'
    const escaped = asciiSource(code)
    assert.ok(isAscii(Buffer.from(escaped)), escaped)
    assert.notEqual(escaped, code)
    assert.deepEqual(runInThisContext(escaped), runInThisContext(code))
    assert.deepEqual(runInThisContext(code), ['±2^53 — ✓ 😀', 'é1', true, true])
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
