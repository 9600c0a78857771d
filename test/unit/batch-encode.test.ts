import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { lineEndAfter, linesBefore } from '../../src/send/batch-encode.js'

describe('--batch: where a file is split between two threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-batch-encode-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('finds the first line end at or after an offset, also past a 64 KiB window, and none at the end', async () => {
    const file = join(dir, 'lines')
    const long = 'y'.repeat(200_000)
    writeFileSync(file, `a\nbb\n${long}\nlast`)
    assert.equal(await lineEndAfter(file, 0), 2)
    assert.equal(await lineEndAfter(file, 1), 2)
    assert.equal(await lineEndAfter(file, 2), 5)
    assert.equal(await lineEndAfter(file, 6), 5 + long.length + 1)
    assert.equal(await lineEndAfter(file, 5 + long.length + 1), undefined)
  })

  it('counts the line ends before an offset, across read chunks', async () => {
    const file = join(dir, 'many')
    const text = 'é\r\n\n'.repeat(600_000)
    writeFileSync(file, text)
    const bytes = Buffer.byteLength(text)
    assert.equal(await linesBefore(file, 0), 0)
    assert.equal(await linesBefore(file, 4), 1)
    assert.equal(await linesBefore(file, 5), 2)
    assert.equal(await linesBefore(file, bytes), 1_200_000)
    assert.equal(await linesBefore(file, bytes - 1), 1_199_999)
  })
})
