/**
 * The schema port: where Avro writer schemas come from when a record names one by fingerprint
 * (single-object encoding) or by id (Confluent). Implementations: in memory (tests, fixed sets),
 * .avsc files, a schema topic fed by the Kafka reader, and the Confluent registry over HTTP.
 * A source hands out schema JSON text; the codec compiles and caches it.
 */

import type { SchemaRef } from './codec.js'
import { schemaRefKey } from './codec.js'

export interface SchemaSource {
  /** For messages: `schema files`, `schema topic schemas-v1`, `schema registry http://…`. */
  readonly description: string
  /** What the source already holds, without I/O (the decode hot path may call this). */
  get(ref: SchemaRef): string | undefined
  /**
   * Fetches or refreshes, then answers like `get`; undefined when the source does not have the
   * schema. Rejects (UnreachableError) only when the source itself cannot be reached.
   */
  load(ref: SchemaRef): Promise<string | undefined>
}

/** A fixed set of schemas, by fingerprint and/or id. */
export class InMemorySchemaSource implements SchemaSource {
  readonly description: string
  private readonly schemas = new Map<string, string>()

  constructor(entries: Iterable<{ ref: SchemaRef; schema: string | object }> = [], description = 'in-memory schemas') {
    this.description = description
    for (const entry of entries) this.add(entry.ref, entry.schema)
  }

  add(ref: SchemaRef, schema: string | object): void {
    this.schemas.set(schemaRefKey(ref), typeof schema === 'string' ? schema : JSON.stringify(schema))
  }

  get(ref: SchemaRef): string | undefined {
    return this.schemas.get(schemaRefKey(ref))
  }

  async load(ref: SchemaRef): Promise<string | undefined> {
    return this.get(ref)
  }
}
