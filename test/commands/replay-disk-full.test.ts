/**
 * A file-backed replay whose disk fills up: one line naming the state file and what the file
 * system said, exit 3 (not "internal error"), the last commit intact, nothing left in the rounds'
 * spill directory, and a resume after space is freed ends with every state. The disk is a small
 * tmpfs mounted by the test (root only: skipped otherwise, say so).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runEs } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { produceOpenedAccounts } from '../support/loadgen.js'

const brokers = testBrokers()
const bankReducer = join(import.meta.dirname, '../../../examples/bank/reducer.js')
const accounts = 60_000

function mountSmallDisk(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a small tmpfs'
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'pipe' })
    return undefined
  } catch (error) {
    return `mount failed: ${(error as Error).message}`
  }
}

describe('es replay --state FILE on a disk that fills up', () => {
  const topic = uniqueTopic('disk-full')
  let dir: string
  let disk: string
  let skip: string | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-disk-full-'))
    disk = join(dir, 'disk')
    execFileSync('mkdir', [disk])
    skip = mountSmallDisk(disk)
    await createTopic(topic, 2)
    await produceOpenedAccounts(brokers, topic, accounts)
  })
  after(async () => {
    if (skip === undefined) execFileSync('umount', [disk])
    await rm(dir, { recursive: true, force: true })
  })

  const replay = (file: string, extra: string[]) =>
    runEs(['replay', '--brokers', brokers, '--topic', topic, '--reducer', bankReducer, '--state', file, ...extra], {
      timeoutMs: 120_000,
    })

  for (const [name, cache] of [
    ['the state file', []],
    ['the rounds past a cache of 1,000', ['--cache', '1000']],
    ['two folding threads sharing the file', ['--workers', '2']],
  ] as const) {
    it(`${name}: exit 3 naming the file, the last commit kept, a resume after space is freed ends complete`, async (t) => {
      if (skip !== undefined) return t.skip(skip)
      execFileSync('mount', ['-o', 'remount,size=3m', disk])
      const file = join(disk, `state-${cache.join('')}.db`)
      const full = await replay(file, ['--from-beginning', ...cache])
      assert.equal(full.code, 3, full.stderr)
      const lines = full.stderr.trim().split('\n')
      assert.equal(lines.length, 1, full.stderr)
      assert.match(lines[0], /no space left/)
      assert.ok(lines[0].includes(file), lines[0])
      assert.doesNotMatch(full.stderr, /internal error|bug/)
      assert.deepEqual(
        readdirSync(disk).filter((entry) => entry.includes('.rounds-')),
        [],
        'the rounds leave nothing behind',
      )

      execFileSync('mount', ['-o', 'remount,size=256m', disk])
      const resumed = await replay(file, [...cache, '--json'])
      assert.equal(resumed.code, 0, resumed.stderr)
      const summary = JSON.parse(resumed.stdout) as { complete: boolean; aggregates: number; resumed: boolean }
      assert.equal(summary.complete, true)
      assert.equal(summary.aggregates, accounts)
      await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(file + suffix, { force: true })))
    })
  }
})
