/**
 * Avro writer schemas from a Confluent registry, by id: the SchemaSource face of RegistryClient
 * (fetched once, concurrent requests shared; the client caches by id).
 */
import { describeSchemaRef, type SchemaRef } from './codec.js'
import { DecodeError } from './codec-errors.js'
import { RegistryClient, type RegistryConnection, type SchemaType } from './registry-client.js'
import type { SchemaSource } from './schema-source.js'

export type { RegistryConnection } from './registry-client.js'

export class ConfluentRegistrySource implements SchemaSource {
  readonly description: string
  readonly client: RegistryClient
  private readonly schemas = new Map<number, string>()

  constructor(
    registry: RegistryConnection | RegistryClient,
    private readonly schemaType: SchemaType = 'AVRO',
  ) {
    this.client = registry instanceof RegistryClient ? registry : new RegistryClient(registry)
    this.description = this.client.description
  }

  /** Requests sent so far (tests check the cache with it). */
  get requests(): number {
    return this.client.requests
  }

  get(ref: SchemaRef): string | undefined {
    return ref.kind === 'id' ? this.schemas.get(ref.id) : undefined
  }

  async load(ref: SchemaRef): Promise<string | undefined> {
    if (ref.kind !== 'id') return undefined
    const found = await this.client.schemaById(ref.id)
    if (!found) return undefined
    if (found.schemaType !== this.schemaType) {
      throw new DecodeError(
        `${describeSchemaRef(ref)} in ${this.description} is a ${found.schemaType} schema, not ${this.schemaType}`,
        { code: 'UNSUPPORTED_SCHEMA_TYPE', where: { url: this.client.url } },
      )
    }
    this.schemas.set(ref.id, found.schema)
    return found.schema
  }
}
