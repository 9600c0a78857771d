/**
 * The ReadModel contract: one suite, run against every implementation (memory, a SQLite file, a
 * PostgreSQL table, an HTTP API, a compacted topic) in test/integration/read-models.test.ts. A
 * fixture stores the accounts below its own way; the suite only reads through the port.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sameValue } from '../../src/diff/compare.js'
import type { ReadModel } from '../../src/read-models/read-model.js'

export interface AccountRow {
  id: string
  owner: string | null
  balance: number
  version: number
}

export const contractRows: AccountRow[] = [
  { id: 'acc-1', owner: 'Ada', balance: 10.5, version: 2 },
  { id: 'acc-2', owner: null, balance: 0, version: 1 },
  { id: 'acc-10', owner: 'Grace', balance: 1234.25, version: 7 },
]

export interface ReadModelFixture {
  /** A read model holding exactly `rows`. */
  open(rows: AccountRow[]): Promise<ReadModel>
  /** Whether `list()` is supported (an HTTP API without a list URL is not). */
  listable: boolean
  cleanup?(): Promise<void>
}

export function readModelContract(name: string, fixture: () => Promise<ReadModelFixture>): void {
  describe(`ReadModel contract: ${name}`, () => {
    let model: ReadModel
    let current: ReadModelFixture
    before(async () => {
      current = await fixture()
      model = await current.open(contractRows)
    })
    after(async () => {
      await model?.close()
      await current?.cleanup?.()
    })

    it('gets the rows of the ids that exist, keyed by aggregate id, and omits the others', async () => {
      const found = await model.get(['acc-10', 'acc-404', 'acc-1'])
      assert.deepEqual([...found.keys()].sort(), ['acc-1', 'acc-10'])
      const ada = found.get('acc-1')!
      assert.ok(sameValue('Ada', ada.owner))
      assert.ok(sameValue(10.5, ada.balance), `balance ${String(ada.balance)}`)
      assert.ok(sameValue(2, ada.version))
      assert.deepEqual([...(await model.get([])).keys()], [])
    })

    it('lists every row by aggregate id (or says it cannot)', async () => {
      const listed = await model.list()
      if (!current.listable) {
        assert.equal(listed, undefined)
        return
      }
      assert.ok(listed)
      assert.deepEqual([...listed.keys()].sort(), ['acc-1', 'acc-10', 'acc-2'])
      for (const row of contractRows) {
        const stored = listed.get(row.id)!
        assert.ok(sameValue(row.owner, stored.owner), `${row.id} owner`)
        assert.ok(sameValue(row.balance, stored.balance), `${row.id} balance ${String(stored.balance)}`)
        assert.ok(sameValue(row.version, stored.version), `${row.id} version`)
      }
    })

    it('has a label naming what it reads', () => {
      assert.match(model.label, /\S/)
    })
  })
}
