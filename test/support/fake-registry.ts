/**
 * A small Confluent-compatible schema registry on a local port, for tests: the documented endpoints
 * es and confluent-kafka-python use, with the registry's own error codes:
 *   GET  /schemas/ids/{id}                       {schema, schemaType?, references?}; 40403
 *   GET  /subjects/{subject}/versions/{version}  {subject, version, id, schema, …}; 40401 / 40402
 *   POST /subjects/{subject}                     lookup: {subject, version, id, schema}; 40401 / 40403
 *   POST /subjects/{subject}/versions            register: {id} (the same id for the same schema)
 * Ids listed in `failing` answer 500; with `credentials` (basic) or `token` (bearer), a request
 * without them gets 401.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StoredSchema {
  schema: string
  schemaType?: string
  references?: Array<{ name: string; subject: string; version: number }>
}

export interface FakeRegistry {
  url: string
  /** Requests received: paths, and `POST <path>` for posts. */
  requests: string[]
  schemas: Map<number, StoredSchema>
  /** subject → ids of its versions, in order. */
  subjects: Map<string, number[]>
  close(): Promise<void>
}

export async function startFakeRegistry(
  options: { failing?: number[]; credentials?: { username: string; password: string }; token?: string } = {},
): Promise<FakeRegistry> {
  const requests: string[] = []
  const schemas = new Map<number, StoredSchema>()
  const subjects = new Map<string, number[]>()
  const expectedAuth = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : options.token
      ? `Bearer ${options.token}`
      : undefined
  const same = (a: StoredSchema, b: StoredSchema) =>
    a.schema === b.schema && (a.schemaType ?? 'AVRO') === (b.schemaType ?? 'AVRO')
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const path = (request.url ?? '').split('?')[0]
      requests.push(request.method === 'POST' ? `POST ${path}` : path)
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
        response.end(JSON.stringify(body))
      }
      if (expectedAuth && request.headers.authorization !== expectedAuth) {
        return reply(401, { error_code: 401, message: 'Unauthorized' })
      }
      const byId = /^\/schemas\/ids\/(\d+)$/.exec(path)
      if (byId && request.method === 'GET') {
        const id = Number(byId[1])
        if (options.failing?.includes(id)) return reply(500, { error_code: 50001, message: 'Error in the backend' })
        const found = schemas.get(id)
        if (!found) return reply(404, { error_code: 40403, message: 'Schema not found' })
        return reply(200, found)
      }
      const version = /^\/subjects\/([^/]+)\/versions\/([^/]+)$/.exec(path)
      if (version && request.method === 'GET') {
        const subject = decodeURIComponent(version[1])
        const ids = subjects.get(subject)
        if (!ids) return reply(404, { error_code: 40401, message: `Subject '${subject}' not found.` })
        const n = version[2] === 'latest' ? ids.length : Number(version[2])
        const id = ids[n - 1]
        if (id === undefined) return reply(404, { error_code: 40402, message: 'Version not found.' })
        return reply(200, { subject, version: n, id, ...schemas.get(id) })
      }
      const subjectPath = /^\/subjects\/([^/]+)(\/versions)?$/.exec(path)
      if (subjectPath && request.method === 'POST') {
        const subject = decodeURIComponent(subjectPath[1])
        let body: StoredSchema
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StoredSchema
        } catch {
          return reply(422, { error_code: 42201, message: 'Invalid schema' })
        }
        const ids = subjects.get(subject) ?? []
        const existing = ids.findIndex((id) => same(schemas.get(id) as StoredSchema, body))
        if (!subjectPath[2]) {
          if (!subjects.has(subject))
            return reply(404, { error_code: 40401, message: `Subject '${subject}' not found.` })
          if (existing < 0) return reply(404, { error_code: 40403, message: 'Schema not found' })
          return reply(200, { subject, version: existing + 1, id: ids[existing], schema: body.schema })
        }
        if (existing >= 0) return reply(200, { id: ids[existing] })
        let id = [...schemas.entries()].find(([, stored]) => same(stored, body))?.[0]
        if (id === undefined) {
          id = Math.max(0, ...schemas.keys()) + 1
          schemas.set(id, {
            schema: body.schema,
            ...(body.schemaType && body.schemaType !== 'AVRO' ? { schemaType: body.schemaType } : {}),
            ...(body.references?.length ? { references: body.references } : {}),
          })
        }
        subjects.set(subject, [...ids, id])
        return reply(200, { id })
      }
      return reply(404, { error_code: 404, message: 'HTTP 404 Not Found' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    schemas,
    subjects,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
