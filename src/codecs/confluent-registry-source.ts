/**
 * A Confluent Schema Registry client for reading: `GET {url}/schemas/ids/{id}`, each id fetched
 * once (ids are immutable) and concurrent requests for one id shared. Uses the global fetch.
 */
import { UnreachableError } from '../errors.js'
import { describeSchemaRef, type SchemaRef } from './codec.js'
import { DecodeError } from './codec-errors.js'
import type { SchemaSource } from './schema-source.js'

export interface RegistryConnection {
  url: string
  username?: string
  password?: string
  /** Per request; default 10 s. */
  timeoutMs?: number
}

export class ConfluentRegistrySource implements SchemaSource {
  readonly description: string
  private readonly baseUrl: string
  private readonly schemas = new Map<number, string>()
  private readonly pending = new Map<number, Promise<string | undefined>>()
  private readonly headers: Record<string, string>
  /** Requests sent so far (tests check the cache with it). */
  requests = 0

  constructor(private readonly connection: RegistryConnection) {
    this.baseUrl = connection.url.replace(/\/+$/, '')
    this.description = `schema registry ${this.baseUrl}`
    this.headers = { accept: 'application/vnd.schemaregistry.v1+json, application/json' }
    if (connection.username !== undefined) {
      const credentials = Buffer.from(`${connection.username}:${connection.password ?? ''}`).toString('base64')
      this.headers.authorization = `Basic ${credentials}`
    }
  }

  get(ref: SchemaRef): string | undefined {
    return ref.kind === 'id' ? this.schemas.get(ref.id) : undefined
  }

  load(ref: SchemaRef): Promise<string | undefined> {
    if (ref.kind !== 'id') return Promise.resolve(undefined)
    const known = this.schemas.get(ref.id)
    if (known !== undefined) return Promise.resolve(known)
    let request = this.pending.get(ref.id)
    if (!request) {
      request = this.fetchSchema(ref.id).finally(() => this.pending.delete(ref.id))
      this.pending.set(ref.id, request)
    }
    return request
  }

  private async fetchSchema(id: number): Promise<string | undefined> {
    const url = `${this.baseUrl}/schemas/ids/${id}`
    this.requests++
    let response: Response
    try {
      response = await fetch(url, {
        headers: this.headers,
        signal: AbortSignal.timeout(this.connection.timeoutMs ?? 10_000),
      })
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message
      throw new UnreachableError(`schema registry ${this.baseUrl} cannot be reached: ${cause}`, {
        code: 'REGISTRY_UNREACHABLE',
        where: { url },
        suggestion: 'check schemaRegistry in the config and that the registry is running',
      })
    }
    if (response.status === 404) return undefined
    if (response.status === 401 || response.status === 403) {
      throw new UnreachableError(`schema registry ${this.baseUrl} refused the credentials (HTTP ${response.status})`, {
        code: 'REGISTRY_AUTH_FAILED',
        where: { url },
        suggestion: 'set schemaRegistry.username and schemaRegistry.password (secrets from environment variables)',
      })
    }
    if (!response.ok) {
      throw new UnreachableError(
        `schema registry ${this.baseUrl} answered HTTP ${response.status} for schema id ${id}`,
        {
          code: 'REGISTRY_ERROR',
          where: { url },
        },
      )
    }
    const body = (await response.json().catch(() => undefined)) as
      | { schema?: unknown; schemaType?: unknown }
      | undefined
    if (typeof body?.schema !== 'string') {
      throw new UnreachableError(`schema registry ${this.baseUrl} answered without a schema for id ${id}`, {
        code: 'REGISTRY_ERROR',
        where: { url },
      })
    }
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO') {
      throw new DecodeError(
        `${describeSchemaRef({ kind: 'id', id })} is a ${String(body.schemaType)} schema; es reads Avro only`,
        {
          code: 'UNSUPPORTED_SCHEMA_TYPE',
          where: { url },
        },
      )
    }
    this.schemas.set(id, body.schema)
    return body.schema
  }
}
