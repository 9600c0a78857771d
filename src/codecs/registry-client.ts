/**
 * A Confluent Schema Registry client, over node:http(s) (TLS options, no fetch restrictions on
 * URLs with credentials). The documented endpoints it uses:
 *   GET  /schemas/ids/{id}                      a schema by id (ids are immutable: cached)
 *   GET  /subjects/{subject}/versions/{version} a subject's version (references, latest)
 *   POST /subjects/{subject}                    lookup: the id of a schema already registered
 *   POST /subjects/{subject}/versions           register
 * Authentication: basic (`username`/`password`, or user info in the URL, as Confluent's clients
 * accept it), bearer (`token`). Every URL in a message, `where` field or debug line is redacted.
 */
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { SchemaRegistryConfig } from '../config/types.js'
import { ConfigError, UnreachableError } from '../errors.js'
import { redact } from '../redact.js'

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

export interface SchemaReference {
  /** The import name (Protobuf: the imported file's path). */
  name: string
  subject: string
  version: number
}

export interface RegisteredSchema {
  id: number
  schema: string
  schemaType: SchemaType
  references: SchemaReference[]
}

export interface SchemaToRegister {
  schema: string
  schemaType: SchemaType
  references?: SchemaReference[]
}

export interface RegistryConnection extends SchemaRegistryConfig {
  /** Per request; default 10 s. */
  timeoutMs?: number
  /** `--verbose` lines (URLs redacted). */
  debug?: (line: string) => void
}

interface Answer {
  status: number
  body: unknown
}

export class RegistryClient {
  /** The URL without user info or trailing slash, for messages. */
  readonly url: string
  readonly description: string
  /** Requests sent so far (tests check the caches with it). */
  requests = 0
  private readonly base: URL
  private readonly headers: Record<string, string>
  private readonly tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean }
  private readonly byId = new Map<number, Promise<RegisteredSchema | undefined>>()
  private readonly ids = new Map<string, Promise<number>>()

  constructor(private readonly connection: RegistryConnection) {
    let base: URL
    try {
      base = new URL(connection.url)
    } catch {
      throw new ConfigError(`schemaRegistry "${redact(connection.url)}" is not a URL`, {
        code: 'CONFIG_INVALID',
        where: { path: 'schemaRegistry' },
      })
    }
    // Credentials in the URL become basic authentication (as Confluent's clients do).
    const username = connection.username ?? (base.username ? decodeURIComponent(base.username) : undefined)
    const password = connection.password ?? (base.password ? decodeURIComponent(base.password) : undefined)
    base.username = ''
    base.password = ''
    this.base = base
    this.url = base.href.replace(/\/+$/, '')
    this.description = `schema registry ${this.url}`
    this.headers = {
      accept: 'application/vnd.schemaregistry.v1+json, application/json',
      'content-type': 'application/vnd.schemaregistry.v1+json',
    }
    if (connection.token !== undefined) this.headers.authorization = `Bearer ${connection.token}`
    else if (username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`
    }
    this.tls = {
      ca: pem(connection.ca),
      cert: pem(connection.cert),
      key: pem(connection.key),
      rejectUnauthorized: connection.rejectUnauthorized,
    }
  }

  /** A schema by id; undefined when the registry does not have it (40403). */
  schemaById(id: number): Promise<RegisteredSchema | undefined> {
    let pending = this.byId.get(id)
    if (!pending) {
      pending = this.fetchById(id)
      // A failure is not cached: the next record asks again.
      pending.catch(() => this.byId.delete(id))
      this.byId.set(id, pending)
    }
    return pending
  }

  /** A subject's version (`latest` or a number), with its id. */
  async version(subject: string, version: number | 'latest'): Promise<RegisteredSchema & { version: number }> {
    const what = `subject ${subject} version ${version}`
    const answer = await this.send('GET', `subjects/${encodeURIComponent(subject)}/versions/${version}`, what)
    if (answer.status === 404) throw this.notFound(answer, what)
    const body = this.expect(answer, what) as Record<string, unknown>
    return { ...schemaOf(body, Number(body.id)), version: Number(body.version) }
  }

  /**
   * The id of `schema` under `subject`: looked up first; registered when the registry does not
   * know it and `autoRegister` allows; refused (exit 3, naming the subject) when it does not.
   */
  idFor(subject: string, schema: SchemaToRegister, autoRegister: boolean): Promise<number> {
    const key = JSON.stringify([subject, schema, autoRegister])
    let pending = this.ids.get(key)
    if (!pending) {
      pending = this.lookupOrRegister(subject, schema, autoRegister)
      pending.catch(() => this.ids.delete(key))
      this.ids.set(key, pending)
    }
    return pending
  }

  private async lookupOrRegister(subject: string, schema: SchemaToRegister, autoRegister: boolean): Promise<number> {
    const body = { schema: schema.schema, schemaType: schema.schemaType, references: schema.references ?? [] }
    const what = `subject ${subject}`
    const lookup = await this.send('POST', `subjects/${encodeURIComponent(subject)}`, what, body)
    if (lookup.status !== 404) return Number((this.expect(lookup, what) as { id: unknown }).id)
    if (!autoRegister) {
      throw new ConfigError(
        `${this.description} does not have this schema under subject ${subject}, and autoRegister is false${registryError(lookup.body)}`,
        {
          code: 'SCHEMA_NOT_REGISTERED',
          where: { url: this.url, subject },
          suggestion: 'register it first, set autoRegister: true, or set schemaId on the codec',
        },
      )
    }
    const registered = await this.send('POST', `subjects/${encodeURIComponent(subject)}/versions`, what, body)
    if (registered.status === 409 || registered.status === 422) {
      throw new ConfigError(
        `${this.description} refused the schema for subject ${subject}${registryError(registered.body)}`,
        {
          code: 'SCHEMA_REJECTED',
          where: { url: this.url, subject },
          suggestion: "the schema is not compatible with the subject's versions (or is invalid)",
        },
      )
    }
    return Number((this.expect(registered, what) as { id: unknown }).id)
  }

  private async fetchById(id: number): Promise<RegisteredSchema | undefined> {
    const what = `schema id ${id}`
    const answer = await this.send('GET', `schemas/ids/${id}`, what)
    if (answer.status === 404) return undefined
    return schemaOf(this.expect(answer, what) as Record<string, unknown>, id)
  }

  /** The body of a 2xx answer; exit 4 naming the registry, `what` and the registry's error. */
  private expect(answer: Answer, what: string): unknown {
    if (answer.status === 401 || answer.status === 403) {
      throw new UnreachableError(
        `${this.description} refused the credentials (HTTP ${answer.status}) for ${what}${registryError(answer.body)}`,
        {
          code: 'REGISTRY_AUTH_FAILED',
          where: { url: this.url },
          suggestion: 'check schemaRegistry username and password, or token (secrets from environment variables)',
        },
      )
    }
    if (answer.status < 200 || answer.status >= 300 || answer.body === undefined) {
      throw new UnreachableError(
        `${this.description} answered HTTP ${answer.status} for ${what}${registryError(answer.body)}`,
        { code: 'REGISTRY_ERROR', where: { url: this.url } },
      )
    }
    return answer.body
  }

  private notFound(answer: Answer, what: string): ConfigError {
    return new ConfigError(`${this.description} has no ${what}${registryError(answer.body)}`, {
      code: 'REGISTRY_NOT_FOUND',
      where: { url: this.url },
    })
  }

  private send(method: 'GET' | 'POST', path: string, what: string, body?: unknown): Promise<Answer> {
    const url = new URL(path, this.base.href.endsWith('/') ? this.base : `${this.base.href}/`)
    this.requests++
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const started = Date.now()
    return new Promise<Answer>((resolve, reject) => {
      const options = {
        method,
        headers: { ...this.headers, ...(payload ? { 'content-length': String(payload.length) } : {}) },
        timeout: this.connection.timeoutMs ?? 10_000,
        ...(url.protocol === 'https:' ? this.tls : {}),
      }
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown
          try {
            parsed = text === '' ? undefined : JSON.parse(text)
          } catch {
            parsed = undefined
          }
          this.connection.debug?.(`${method} ${redact(url.href)} → ${response.statusCode} (${Date.now() - started} ms)`)
          resolve({ status: response.statusCode ?? 0, body: parsed })
        })
        response.on('error', reject)
      })
      request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeout} ms`)))
      request.on('error', (error) => {
        reject(
          new UnreachableError(`${this.description} cannot be reached for ${what}: ${redact(error.message)}`, {
            code: 'REGISTRY_UNREACHABLE',
            where: { url: this.url },
            suggestion: 'check schemaRegistry in the config (or --registry) and that the registry runs',
          }),
        )
      })
      request.end(payload)
    })
  }
}

function schemaOf(body: Record<string, unknown>, id: number): RegisteredSchema {
  const type = typeof body.schemaType === 'string' ? body.schemaType.toUpperCase() : 'AVRO'
  return {
    id,
    schema: typeof body.schema === 'string' ? body.schema : '',
    schemaType: (['AVRO', 'PROTOBUF', 'JSON'].includes(type) ? type : type) as SchemaType,
    references: Array.isArray(body.references) ? (body.references as SchemaReference[]) : [],
  }
}

/** `: error 40403 Schema not found` from the registry's `{error_code, message}`. */
function registryError(body: unknown): string {
  const error = body as { error_code?: unknown; message?: unknown } | undefined
  if (!error || (error.error_code === undefined && error.message === undefined)) return ''
  return `: error ${String(error.error_code ?? '?')} ${redact(String(error.message ?? ''))}`.trimEnd()
}

/** PEM text as it is; anything else is a path (the config resolved it against its file). */
function pem(value: string | undefined): string | undefined {
  if (value === undefined || value.includes('-----BEGIN')) return value
  try {
    return readFileSync(value, 'utf8')
  } catch (error) {
    throw new ConfigError(`schemaRegistry TLS file ${value} cannot be read: ${(error as Error).message}`, {
      code: 'CONFIG_INVALID',
      where: { file: value, path: 'schemaRegistry' },
    })
  }
}
