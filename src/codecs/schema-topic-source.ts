/**
 * Schemas kept in a compacted Kafka topic, as the Kaa registry (seed 001) writes them: key = the
 * CRC-64-AVRO fingerprint as a big-endian 8-byte long (Kafka's LongSerializer), value = the
 * schema JSON text. This source does no Kafka I/O: the reader feeds it records with `addRecord`;
 * `load` awaits the optional `refresh` (e.g. "read the schema topic up to its end") first.
 */
import type { SchemaRef } from './codec.js'
import { DecodeError } from './codec-errors.js'
import type { SchemaSource } from './schema-source.js'

export interface SchemaTopicOptions {
  /** Brings the source up to date (reads new schema records); awaited by `load`. */
  refresh?: () => Promise<void>
}

export class SchemaTopicSource implements SchemaSource {
  readonly description: string
  private readonly schemas = new Map<bigint, string>()

  constructor(
    readonly topic: string,
    private readonly options: SchemaTopicOptions = {},
  ) {
    this.description = `schema topic ${topic}`
  }

  /** Number of schemas held. */
  get size(): number {
    return this.schemas.size
  }

  /**
   * Takes one record of the schema topic. A tombstone is ignored: records written with that
   * schema still need it. A key that is not 8 bytes throws a DecodeError (skip and warn).
   */
  addRecord(key: Buffer | null, value: Buffer | null): void {
    if (key === null || key.length !== 8) {
      throw new DecodeError(
        `schema topic ${this.topic}: key must be an 8-byte big-endian fingerprint, got ${key === null ? 'no key' : `${key.length} bytes`}`,
        { code: 'SCHEMA_TOPIC_INVALID', where: { topic: this.topic } },
      )
    }
    if (value === null || value.length === 0) return
    this.schemas.set(key.readBigUInt64BE(0), value.toString('utf8'))
  }

  get(ref: SchemaRef): string | undefined {
    return ref.kind === 'fingerprint' ? this.schemas.get(ref.fingerprint) : undefined
  }

  async load(ref: SchemaRef): Promise<string | undefined> {
    if (this.get(ref) === undefined) await this.options.refresh?.()
    return this.get(ref)
  }
}
