/**
 * Name completion (the operator's-day issue, section 2): the bash function of `es completion bash`
 * completes topics and groups from the real broker and profiles from the config where they are
 * expected, leaves commands and flags to oclif's autocomplete function, and a cluster that never
 * answers completes nothing (exit 0, no output) instead of an error.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { esBin, runEs } from '../support/cli.js'
import { createTopic, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js'
import { tempDir } from '../support/temp-dir.js'

const execFileAsync = promisify(execFile)
const brokers = testBrokers()

describe('es completion bash', () => {
  let dir: string
  let cache: string
  let config: string
  const topic = uniqueTopic('completion-topic')
  const group = uniqueTopic('completion-group')
  let silent: Server

  before(async () => {
    dir = await tempDir('es-completion-')
    cache = join(dir, 'cache')
    config = join(dir, 'es.config.yaml')
    await writeFile(
      config,
      [
        `brokers: ${brokers}`,
        'defaultProfile: dev',
        'profiles:',
        `  dev: { brokers: ${brokers} }`,
        `  prod: { brokers: ${brokers}, readOnly: true }`,
        '',
      ].join('\n'),
    )
    await createTopic(topic, 1)
    const admin = testKafka().admin()
    await admin.connect()
    try {
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '0' }] })
    } finally {
      await admin.disconnect()
    }
    const built = await runEs(['autocomplete', 'bash'], { env: { ES_CACHE_DIR: cache } })
    assert.equal(built.code, 0, built.stderr)
    // A port that accepts connections and never answers them.
    silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  })

  after(() => {
    silent.close()
  })

  /** Runs the completion function in bash for `words` (the last is the word being completed). */
  async function complete(words: string[], env: Record<string, string> = {}): Promise<string[]> {
    const script = [
      `es() { "${process.execPath}" "${esBin}" "$@"; }`,
      `source "${join(cache, 'autocomplete/functions/bash/es.bash')}"`,
      'eval "$(es completion bash)"',
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_es_names',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n')
    const { stdout } = await execFileAsync('bash', ['-c', script], {
      env: { ...process.env, NO_COLOR: '1', ES_CONFIG: config, ES_CACHE_DIR: cache, ...env },
      timeout: 60_000,
    })
    return stdout.split('\n').filter((line) => line !== '')
  }

  it('completes topics and groups from the cluster where they are expected', async () => {
    assert.ok((await complete(['es', 'tail', topic.slice(0, -3)])).includes(topic))
    assert.ok((await complete(['es', 'replay', '--topic', topic.slice(0, 12)])).includes(topic))
    assert.ok((await complete(['es', 'checkpoints', group.slice(0, -2)])).includes(group))
    assert.ok(!(await complete(['es', 'tail', 'completion-'])).includes(group), 'groups are not topics')
  })

  it('completes profiles from the config, and leaves commands and flags to oclif', async () => {
    assert.deepEqual(await complete(['es', 'tail', '--profile', '']), ['dev', 'prod'])
    assert.deepEqual(await complete(['es', 'tail', '--profile', 'pr']), ['prod'])
    assert.ok((await complete(['es', 'ta'])).includes('tail'))
    assert.ok((await complete(['es', 'tail', '--unti'])).some((w) => w.startsWith('--until')))
  })

  it('a cluster that never answers completes nothing: exit 0, no output, no error', async () => {
    const address = silent.address()
    assert.ok(address && typeof address === 'object')
    const run = await runEs(['__complete', 'topics', ''], {
      env: { ES_CONFIG: undefined, ES_BROKERS: `127.0.0.1:${address.port}` },
    })
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, '')
    assert.equal(run.stderr, '')
  })
})
