// Writes the V8 code cache of each bundle in dist/vendor/ (scripts/bundle.mjs) and of the config
// validator for the Node.js that runs the build, after the manifest (oclif reads it): each library
// is loaded and then used as a command first uses it, so that the cache holds those functions
// compiled (src/bundled-modules.ts).
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeCodeCache } from '../dist/src/bundled-modules.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const written = [
  // Encodes the requests a command's first round trips send (no connection is opened).
  await writeCodeCache('kafkajs', {
    exercise: ({ Cluster, loggers, requests }) => {
      const logger = loggers.createLogger({ level: 0, logCreator: () => () => {} })
      new Cluster({ brokers: ['127.0.0.1:1'], connectionTimeout: 1000, logger })
      const { Fetch, ListOffsets, Metadata } = requests.requests
      const partitions = [{ partition: 0, fetchOffset: '0', maxBytes: 1024, timestamp: -2 }]
      const topics = [{ topic: 't', partitions }]
      return Promise.all([
        Fetch.protocol({ version: 11 })({
          replicaId: -1,
          isolationLevel: 1,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 1024,
          topics,
          rackId: '',
        }).request.encode(),
        ListOffsets.protocol({ version: 2 })({ replicaId: -1, isolationLevel: 1, topics }).request.encode(),
        Metadata.protocol({ version: 6 })({ topics: ['t'], allowAutoTopicCreation: false }).request.encode(),
      ])
    },
  }),
  // Loads es's config (the manifest, plugins) and finds and parses a command's flags.
  await writeCodeCache('oclif', {
    exercise: async ({ core }) => {
      const config = await core.Config.load(root)
      config.findCommand('tail')
      await core.Parser.parse(['events', '--limit', '1'], {
        args: { stream: core.Args.string() },
        flags: { limit: core.Flags.integer(), from: core.Flags.string() },
      })
    },
  }),
  // Parses a config file as src/config/load.ts does.
  await writeCodeCache('yaml', {
    exercise: ({ core }) => {
      const lineCounter = new core.LineCounter()
      core.parseDocument('brokers: x:9092\nservices:\n  s: { streams: { events: e }, codec: [a, "b"] }\n', {
        lineCounter,
      })
    },
  }),
  // Validates a config document (src/config/validate.ts).
  await writeCodeCache('config-validator', {
    exercise: (validate) => {
      validate({ brokers: 'x:9092', services: { s: { streams: { events: 'e' }, codec: { value: 'json' } } } })
    },
  }),
]
// Each command's bundle, loaded as oclif loads it (its modules' top level), and each worker's,
// compiled only (running it would run the thread).
const bundles = (dir) =>
  readdirSync(join(root, 'dist/vendor', dir), { recursive: true })
    .filter((file) => file.endsWith('.cjs'))
    .map((file) => join(dir, file.replace(/\.cjs$/, '')))
for (const command of bundles('commands')) written.push(await writeCodeCache(command))
for (const worker of bundles('workers')) written.push(await writeCodeCache(worker, { run: false }))
process.stderr.write(`dist/vendor: ${written.length} code caches written\n`)
