/**
 * Start-up (the instant-commands issue): `es --version` answers without loading oclif, and says
 * exactly what oclif would; the commands and oclif's entry are bundled (scripts/bundle.mjs), importing
 * none of dist/src's modules one by one nor oclif from node_modules, and still run; kafkajs and
 * oclif load from one bundled file each (dist/vendor/), none of their files from node_modules; each
 * command's bundle runs none of the codecs it holds until one is needed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Config } from '@oclif/core'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'

interface CoveredScript {
  url: string
  functions: Array<{ functionName: string; ranges: Array<{ count: number }> }>
}

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')

describe('es start-up', () => {
  it('es --version prints what oclif prints for it', async () => {
    const config = await Config.load(root)
    const run = await runEs(['--version'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, `${config.userAgent}\n`)
  })

  it('es --version does not even import oclif: bin/run.js answers from package.json alone', async () => {
    // A copy of bin/run.js and package.json beside a dist/oclif.js that throws when imported.
    const dir = await mkdtemp(join(tmpdir(), 'es-version-'))
    try {
      await mkdir(join(dir, 'bin'))
      await mkdir(join(dir, 'dist'))
      await copyFile(join(root, 'bin/run.js'), join(dir, 'bin/run.js'))
      await copyFile(join(root, 'package.json'), join(dir, 'package.json'))
      await writeFile(join(dir, 'dist/oclif.js'), "throw new Error('dist/oclif.js was imported')\n")
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [join(dir, 'bin/run.js'), '--version'], (error, out, err) =>
          error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
        ),
      )
      const config = await Config.load(root)
      assert.equal(stdout, `${config.userAgent}\n`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('every command is bundled: it imports no module of dist/src, nor oclif from node_modules', async () => {
    const dir = join(root, 'dist/commands')
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.js'))
    assert.ok(files.length >= 10, files.join(' '))
    for (const file of files) {
      const code = await readFile(join(dir, file), 'utf8')
      assert.doesNotMatch(code, /from\s+["'](\.\.?\/)+src\//, file)
      assert.doesNotMatch(code, /import\(["'](\.\.?\/)+src\//, file)
      assert.doesNotMatch(code, /from\s+["']@oclif\/core["']/, file)
    }
    const help = await runEs(['tail', '--help'])
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /--from/)
  })

  it('a command that talks to Kafka loads kafkajs and oclif from their bundles, no file of theirs from node_modules', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-loaded-'))
    try {
      // Loaded before es: at exit, writes the CommonJS files the process loaded.
      const hook = join(dir, 'loaded-files.cjs')
      const list = join(dir, 'loaded.json')
      await writeFile(
        hook,
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))))\n`,
      )
      // Nothing listens on port 1: kafkajs is loaded to connect, and the refusal exits 4.
      const run = await runEs(['topics', '--brokers', '127.0.0.1:1'], { nodeArgs: ['--require', hook] })
      assert.equal(run.code, 4, run.stderr)
      assert.match(run.stderr, /refused the connection/)
      const loaded = JSON.parse(await readFile(list, 'utf8')) as string[]
      assert.ok(loaded.includes(hook), 'the hook saw the files')
      assert.deepEqual(
        loaded.filter((file) => /[\\/]node_modules[\\/](kafkajs|@oclif[\\/]core)[\\/]/.test(file)),
        [],
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('tail and send-command run no code of avsc or protobufjs until a codec needs them', async () => {
    // Their bundles hold the codecs' code (imported with import()); V8's coverage of a run says
    // which of its modules' functions ran (esbuild names each lazily evaluated module by its path).
    const topic = uniqueTopic('startup-json')
    await createTopic(topic, 1)
    const dir = await mkdtemp(join(tmpdir(), 'es-coverage-'))
    try {
      const config = join(dir, 'es.config.yaml')
      await writeFile(
        config,
        [
          `brokers: ${testBrokers()}`,
          'services:',
          '  s:',
          `    streams: { commands: ${topic}, events: ${topic} }`,
          '    codec: { key: string, value: json }',
          '',
        ].join('\n'),
      )
      for (const args of [
        ['send-command', 'Deposit', '--key', 'a', '--data', '{"amount":1}'],
        ['tail', 'events', '--from', 'beginning', '--limit', '1'],
      ]) {
        const coverage = join(dir, args[0])
        const run = await runEs(args, { env: { ES_CONFIG: config, NODE_V8_COVERAGE: coverage } })
        assert.equal(run.code, 0, run.stderr)
        const scripts = (
          await Promise.all(
            (await readdir(coverage)).map(async (file) => JSON.parse(await readFile(join(coverage, file), 'utf8'))),
          )
        ).flatMap((report: { result: CoveredScript[] }) => report.result)
        const bundle = scripts.find((script) => script.url.endsWith(`/dist/vendor/commands/${args[0]}.cjs`))
        assert.ok(bundle, `${args[0]}: its bundle ran`)
        const codecModules = bundle.functions.filter((fn) => /^node_modules\/(avsc|protobufjs)\//.test(fn.functionName))
        assert.ok(codecModules.length > 0, `${args[0]}: the codecs are in its bundle`)
        assert.deepEqual(
          codecModules.filter((fn) => fn.ranges[0].count > 0).map((fn) => fn.functionName),
          [],
          `${args[0]} ran them`,
        )
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
