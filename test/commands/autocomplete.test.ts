/** Shell completion (oclif's autocomplete plugin): the generated bash and zsh functions know every command and flag. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runEs } from '../support/cli.js'
import { tempDir } from '../support/temp-dir.js'

describe('es autocomplete', () => {
  it('writes bash and zsh completion functions listing the commands and their flags', async () => {
    const cache = await tempDir('es-autocomplete-')
    const run = await runEs(['autocomplete', 'bash'], { env: { ES_CACHE_DIR: cache } })
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /es autocomplete script bash/)
    const bash = await readFile(join(cache, 'autocomplete/functions/bash/es.bash'), 'utf8')
    assert.match(bash, /^tail .*--from .*--until .*--where/m)
    assert.match(bash, /^rebuild-projection .*--dry-run .*--handoff-group/m)
    assert.match(bash, /^produce .*--format .*--key-delimiter .*--compression/m)
    for (const command of [
      'replay',
      'snapshots',
      'send-command',
      'diff',
      'checkpoints',
      'local:start',
      'topics',
      'groups',
    ]) {
      assert.match(bash, new RegExp(`^${command} `, 'm'), command)
    }
    const zsh = await readFile(join(cache, 'autocomplete/functions/zsh/_es'), 'utf8')
    assert.match(zsh, /checkpoints/)
  })
})
