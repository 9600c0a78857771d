/**
 * One stated Node range that every dependency accepts, so that `npm install` prints no engine
 * warning on any Node the README names: package.json's engines.node is a subset of every installed
 * package's engines.node (as package-lock.json records them), and the README states the same range.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const semver = createRequire(import.meta.url)('semver') as {
  subset(range: string, superset: string): boolean
  satisfies(version: string, range: string): boolean
}
const json = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'))

describe('the Node range', () => {
  const stated: string = json('package.json').engines.node

  it('is accepted by every dependency', () => {
    const lock = json('package-lock.json') as { packages: Record<string, { engines?: { node?: string } }> }
    const refusing = Object.entries(lock.packages)
      .filter(([path, info]) => path !== '' && info.engines?.node && !semver.subset(stated, info.engines.node))
      .map(([path, info]) => `${path.replace(/^node_modules\//, '')} wants ${info.engines?.node}`)
    assert.deepEqual(refusing, [], `engines.node "${stated}"`)
  })

  it('includes the Node this runs on, and the README states it', () => {
    assert.ok(semver.satisfies(process.versions.node, stated), `${process.versions.node} in ${stated}`)
    assert.match(
      readFileSync(join(root, 'README.md'), 'utf8'),
      new RegExp(`Requirements: Node ${stated.replace(/[.^|*+?()[\]\\]/g, '\\$&')} `),
    )
  })
})
