/**
 * The ReadModel contract: one suite, run against every implementation (memory, a SQLite file, a
 * PostgreSQL table, an HTTP API, a compacted topic) in test/integration/read-models.test.ts. A
 * fixture stores the accounts below its own way; the suite only reads through the port.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sameValue } from '../../src/diff/compare.js'
import type { ReadModel, RebuildableReadModel } from '../../src/read-models/read-model.js'

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
  /** Whether `scan()` is supported (an HTTP API without a list URL is not). */
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

    it('scans every row in aggregate-id order with the columns it has (or says it cannot)', async () => {
      const scan = await model.scan()
      if (!current.listable) {
        assert.equal(scan, undefined)
        return
      }
      assert.ok(scan)
      for (const column of ['id', 'owner', 'balance', 'version']) {
        assert.ok(scan.columns.includes(column), `columns ${scan.columns.join(', ')} include ${column}`)
      }
      const rows: Array<[string, Record<string, unknown>]> = []
      for await (const entry of scan.rows) rows.push(entry)
      // Code point order ('acc-1' < 'acc-10' < 'acc-2'), as state files and SQLite sort ids.
      assert.deepEqual(
        rows.map(([id]) => id),
        ['acc-1', 'acc-10', 'acc-2'],
      )
      for (const row of contractRows) {
        const stored = rows.find(([id]) => id === row.id)![1]
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

export interface RebuildableFixture {
  /** A rebuildable read model holding exactly `rows` (columns id, owner, balance NOT NULL, version). */
  open(rows: AccountRow[]): Promise<RebuildableReadModel>
  cleanup?(): Promise<void>
}

const rebuilt: AccountRow[] = [
  { id: 'acc-1', owner: 'Ada', balance: 99, version: 3 },
  { id: 'acc-7', owner: 'Linus', balance: 1, version: 1 },
]

async function ids(model: ReadModel): Promise<string[]> {
  const scan = await model.scan()
  const found: string[] = []
  if (scan) for await (const [id] of scan.rows) found.push(id)
  return found.sort()
}

/** The shadow-and-swap contract of `es rebuild-projection`, run against every table kind. */
export function rebuildableContract(name: string, fixture: () => Promise<RebuildableFixture>): void {
  describe(`RebuildableReadModel contract: ${name}`, () => {
    let current: RebuildableFixture
    const opened: RebuildableReadModel[] = []
    const open = async (rows: AccountRow[]) => {
      const model = await current.open(rows)
      opened.push(model)
      return model
    }
    before(async () => {
      current = await fixture()
    })
    after(async () => {
      for (const model of opened) await model.close()
      await current?.cleanup?.()
    })

    it('knows the live columns and key; the live table is untouched until the swap, then wholly replaced', async () => {
      const model = await open(contractRows)
      assert.deepEqual([...model.columns], ['id', 'owner', 'balance', 'version'])
      assert.equal(model.key, 'id')
      await model.createShadow()
      await model.writeShadow(rebuilt.map((r) => ({ ...r })))
      assert.deepEqual(await ids(model), ['acc-1', 'acc-10', 'acc-2'], 'readers still see the live table')
      assert.deepEqual((await model.swapShadow({ keepOld: false })).kept, undefined)
      assert.deepEqual(await ids(model), ['acc-1', 'acc-7'])
      const ada = (await model.get(['acc-1'])).get('acc-1')!
      assert.ok(sameValue(99, ada.balance) && sameValue(3, ada.version))
    })

    it('keeps the old table under another name with keepOld, and can rebuild again', async () => {
      const model = await open(contractRows)
      await model.createShadow()
      await model.writeShadow(rebuilt.map((r) => ({ ...r })))
      const { kept } = await model.swapShadow({ keepOld: true })
      assert.ok(kept && kept !== model.shadowName, `a kept name: ${kept}`)
      await model.createShadow()
      await model.writeShadow([{ id: 'acc-9', owner: null, balance: 0, version: 1 }])
      await model.swapShadow({ keepOld: false })
      assert.deepEqual(await ids(model), ['acc-9'])
    })

    it('restores the newest kept table and keeps the replaced one, so a rollback can be undone', async () => {
      const model = await open(contractRows)
      assert.deepEqual(await model.keptTables(), [])
      await model.createShadow()
      await model.writeShadow(rebuilt.map((r) => ({ ...r })))
      const { kept } = await model.swapShadow({ keepOld: true })
      assert.deepEqual(await model.keptTables(), [kept])
      const back = await model.restore(kept!)
      assert.deepEqual(await ids(model), ['acc-1', 'acc-10', 'acc-2'], 'the old rows are live again')
      assert.deepEqual(await model.keptTables(), [back.kept], 'the rebuilt table is kept in turn')
      await model.restore(back.kept)
      assert.deepEqual(await ids(model), ['acc-1', 'acc-7'])
      await assert.rejects(model.restore('no-such-table'), (error: { exitCode?: number }) => error.exitCode === 6)
    })

    it('writes text as it is: tabs, line breaks, backslashes, \\N and non-ASCII survive the rebuild', async () => {
      const model = await open(contractRows)
      const owners = ['tab\there', 'two\nlines\r\n', 'back\\slash \\N \\x41', '\\N', 'çağrı 🚀', '']
      await model.createShadow()
      await model.writeShadow(owners.map((owner, i) => ({ id: `acc-t${i}`, owner, balance: i, version: 1 })))
      await model.swapShadow({ keepOld: false })
      const rows = await model.get(owners.map((_, i) => `acc-t${i}`))
      assert.deepEqual(
        owners.map((_, i) => rows.get(`acc-t${i}`)?.owner),
        owners,
      )
    })

    it('a row the table refuses fails the write; dropping the shadow leaves the live table as it was', async () => {
      const model = await open(contractRows)
      await model.createShadow()
      await assert.rejects(
        model.writeShadow([{ id: 'acc-x', owner: 'X', balance: null, version: 1 }]),
        (error: { exitCode?: number }) => error.exitCode === 5,
      )
      await model.dropShadow()
      assert.deepEqual(await ids(model), ['acc-1', 'acc-10', 'acc-2'])
      // A leftover shadow (an interrupted rebuild) is replaced by the next one.
      await model.createShadow()
      await model.writeShadow([{ id: 'acc-left', owner: null, balance: 1, version: 1 }])
      await model.createShadow()
      await model.writeShadow(rebuilt.map((r) => ({ ...r })))
      await model.swapShadow({ keepOld: false })
      assert.deepEqual(await ids(model), ['acc-1', 'acc-7'])
    })
  })
}
