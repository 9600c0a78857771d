/**
 * States nobody keeps: the fold of `es diff` and `es rebuild-projection` without `--state`. They
 * end in SQLite files in a temporary directory (one per folding thread; the threads' aggregates
 * never overlap) — held in memory while they fit the cache bound, on file past it
 * (`SpillingStateStore`), so memory stays bounded whatever the number of aggregates — and are
 * read back as one stream in id order. A store whose states all fit hands them over instead of
 * writing its file (`hold`): they stay within the same bound. The directory is removed on close.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { SpillingStateStore } from './spilling-state-store.js'
import type { CacheBound } from './state-cache.js'
import { compareIds } from './state-store.js'

export class TemporaryStates {
  private readonly files = new Set<string>()
  /** States handed over in id order (`SpillingStateStore.release`), by the name of their file. */
  private readonly held = new Map<string, Array<[string, unknown]>>()

  private constructor(readonly dir: string) {}

  static async create(): Promise<TemporaryStates> {
    return new TemporaryStates(await mkdtemp(join(tmpdir(), 'es-states-')))
  }

  /** The path of state file `name` in the directory (for a worker thread to open). */
  file(name: string): string {
    const path = join(this.dir, `${name}.db`)
    this.files.add(path)
    return path
  }

  /** A store on state file `name`. */
  store(name: string, cache?: CacheBound): SpillingStateStore {
    return new SpillingStateStore(this.file(name), { cache })
  }

  /** The states of store `name` that never went to its file, in id order (`SpillingStateStore.release`). */
  hold(name: string, states: Array<[string, unknown]>): void {
    this.held.set(name, states)
  }

  /**
   * Every state held and of every file written, in id order (`compareIds`): a merge of the files' ordered
   * reads. No store may be writing meanwhile.
   */
  *entries(): IterableIterator<[string, unknown]> {
    const open: BetterSqlite3.Database[] = []
    try {
      const heads: Array<{ rows: Iterator<[string, unknown]>; row: [string, unknown]; parse: boolean }> = []
      for (const states of this.held.values()) {
        const rows = states[Symbol.iterator]()
        const first = rows.next()
        if (!first.done) heads.push({ rows, row: first.value, parse: false })
      }
      for (const file of this.files) {
        if (!existsSync(file)) continue
        // Loaded only when a store went to its file (states that fit are held in memory).
        const db = new (requireSqlite())(file, { readonly: true })
        open.push(db)
        const rows = db
          .prepare('SELECT aggregate_id, state FROM state ORDER BY aggregate_id')
          .raw()
          .iterate() as Iterator<[string, string]>
        const first = rows.next()
        if (!first.done) heads.push({ rows, row: first.value, parse: true })
      }
      while (heads.length > 0) {
        let least = 0
        for (let i = 1; i < heads.length; i++) if (compareIds(heads[i].row[0], heads[least].row[0]) < 0) least = i
        const head = heads[least]
        yield head.parse ? [head.row[0], JSON.parse(head.row[1] as string)] : head.row
        const next = head.rows.next()
        if (next.done) heads.splice(least, 1)
        else head.row = next.value
      }
    } finally {
      for (const db of open) db.close()
    }
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** better-sqlite3, loaded on first use (commands that never read state files do not pay for it). */
function requireSqlite(): typeof BetterSqlite3 {
  return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
}
