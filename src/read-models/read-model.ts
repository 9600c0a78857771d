/**
 * A projection's live read model as `es diff` reads it: rows by aggregate id. One port, one
 * implementation per kind of read model (SQLite file, PostgreSQL table, HTTP query API, compacted
 * topic) and an in-memory one; test/support/read-model-contract.ts runs the same suite on each.
 */
import type { Row } from '../diff/compare.js'
import { ConfigError } from '../errors.js'

export interface ReadModel {
  /** What and where, for messages: `sqlite /srv/bank-accounts.db table accounts`. */
  readonly label: string
  /**
   * Every row by aggregate id (its key column or field, as text), or undefined when this read
   * model cannot be listed (an HTTP API without a list URL).
   */
  list(): Promise<Map<string, Row> | undefined>
  /** The rows of these ids that exist. */
  get(ids: readonly string[]): Promise<Map<string, Row>>
  close(): Promise<void>
}

/** Rows keyed by their key column as text; a row without a key is refused. */
export function rowsByKey(rows: Iterable<Row>, key: string, label: string): Map<string, Row> {
  const byId = new Map<string, Row>()
  for (const row of rows) {
    const id = row[key]
    if (id === undefined || id === null) {
      throw new ConfigError(`${label}: a row has no "${key}", the key column`, {
        code: 'READ_MODEL_KEY',
        where: { readModel: label, key },
        suggestion: 'set readModel.key in the config to the column holding the aggregate id',
      })
    }
    byId.set(typeof id === 'string' ? id : String(id), row)
  }
  return byId
}

/** The in-memory read model: the reference for the contract suite, and what tests diff against. */
export class MemoryReadModel implements ReadModel {
  readonly label = 'memory'
  private readonly rows: Map<string, Row>

  constructor(
    rows: Iterable<[string, Row]> = [],
    private readonly listable = true,
  ) {
    this.rows = new Map(rows)
  }

  async list(): Promise<Map<string, Row> | undefined> {
    return this.listable ? new Map(this.rows) : undefined
  }

  async get(ids: readonly string[]): Promise<Map<string, Row>> {
    const found = new Map<string, Row>()
    for (const id of ids) {
      const row = this.rows.get(id)
      if (row !== undefined) found.set(id, row)
    }
    return found
  }

  async close(): Promise<void> {}
}
