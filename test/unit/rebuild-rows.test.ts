import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keptTableName } from '../../src/read-models/read-model.js'
import { renameCreateTable } from '../../src/read-models/sqlite-read-model.js'
import { toTableRows } from '../../src/read-models/table-rows.js'

describe('rebuild: states as table rows', () => {
  const table = { columns: ['id', 'owner', 'balance', 'updated_at', 'created_at'], key: 'id' }

  it('puts each field in the column of the same name (case, _ and - ignored), the key from the aggregate id', () => {
    const { rows, unmapped } = toTableRows(
      [['acc-1', { owner: 'Ada', balance: 5, updatedAt: '2026-11-25T10:00:00.000Z', note: 'x' }]],
      table,
    )
    assert.deepEqual(rows, [{ id: 'acc-1', owner: 'Ada', balance: 5, updated_at: '2026-11-25T10:00:00.000Z' }])
    assert.deepEqual(unmapped, ['note'])
  })

  it('follows readModel.columns where names differ, and keeps a key the state has', () => {
    const { rows } = toTableRows([['a', { id: 'A-1', total: 3 }]], { ...table, mapping: { total: 'balance' } })
    assert.deepEqual(rows, [{ id: 'A-1', balance: 3 }])
  })

  it('a state that is not an object fills a value column', () => {
    const { rows } = toTableRows([['k', 7]], { columns: ['key', 'value'], key: 'key' })
    assert.deepEqual(rows, [{ key: 'k', value: 7 }])
  })
})

describe('rebuild: table names', () => {
  it('copies a SQLite table definition under another name, however the name was written', () => {
    for (const sql of [
      'CREATE TABLE accounts (id TEXT PRIMARY KEY)',
      'CREATE TABLE IF NOT EXISTS "accounts" (id TEXT PRIMARY KEY)',
      'create table [accounts](id TEXT PRIMARY KEY)',
      'CREATE TABLE `accounts` (id TEXT PRIMARY KEY)',
    ]) {
      assert.match(
        renameCreateTable(sql, '"accounts__es_rebuild"'),
        /^CREATE TABLE "accounts__es_rebuild" ?\(id TEXT PRIMARY KEY\)$/,
      )
    }
  })

  it('names a kept table by the time, with a counter when that name is taken', async () => {
    const now = new Date(Date.UTC(2026, 10, 25, 10, 15, 0, 123))
    assert.equal(await keptTableName('accounts', () => false, now), 'accounts__es_old_20261125T101500123Z')
    const taken = new Set(['accounts__es_old_20261125T101500123Z', 'accounts__es_old_20261125T101500123Z_2'])
    assert.equal(await keptTableName('accounts', (n) => taken.has(n), now), 'accounts__es_old_20261125T101500123Z_3')
  })
})
