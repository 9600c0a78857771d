/**
 * A small service config for command tests that need a config but no running service: JSON
 * commands and events on the given topics, one command type with a schema (Open, requiring
 * `owner`), and a projection into a SQLite table `owners` (created by `createOwnersTable`).
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'

export interface ShopTopics {
  commands: string
  events: string
}

/** The `services:` section (YAML) of the shop service. */
export function shopServices(topics: ShopTopics): string {
  return `services:
  shop:
    streams: { commands: ${topics.commands}, events: ${topics.events}, snapshots: ${topics.events} }
    envelope: { payload: $.data }
    commands:
      Open: { schema: { type: object, required: [owner], properties: { owner: { type: string } } } }
    projections:
      owners: { reducer: latest, readModel: { type: sqlite, file: ./owners.db, table: owners } }
`
}

/** The projection's read-model table in `dir`, with `rows` ([id, owner]); returns its file. */
export function createOwnersTable(dir: string, rows: Array<[string, string]> = []): string {
  const file = join(dir, 'owners.db')
  const db = new Database(file)
  db.exec('CREATE TABLE owners (id TEXT PRIMARY KEY, owner TEXT)')
  for (const row of rows) db.prepare('INSERT INTO owners VALUES (?, ?)').run(...row)
  db.close()
  return file
}
