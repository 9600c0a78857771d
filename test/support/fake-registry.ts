/**
 * A tiny Confluent-compatible schema registry on a local port, for tests of the registry client:
 * `GET /schemas/ids/{id}` answers `{"schema": "<text>"}` (plus `schemaType` when not Avro), 404
 * for unknown ids; ids listed in `failing` answer 500; with `credentials`, requests without the
 * matching basic auth get 401.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeRegistry {
  url: string
  /** Requests received, by path. */
  requests: string[]
  schemas: Map<number, { schema: string; schemaType?: string }>
  close(): Promise<void>
}

export async function startFakeRegistry(
  options: { failing?: number[]; credentials?: { username: string; password: string } } = {},
): Promise<FakeRegistry> {
  const requests: string[] = []
  const schemas = new Map<number, { schema: string; schemaType?: string }>()
  const expectedAuth = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : undefined
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '')
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
      response.end(JSON.stringify(body))
    }
    if (expectedAuth && request.headers.authorization !== expectedAuth) {
      return reply(401, { error_code: 401, message: 'Unauthorized' })
    }
    const match = /^\/schemas\/ids\/(\d+)$/.exec(request.url ?? '')
    if (!match) return reply(404, { error_code: 404, message: 'HTTP 404 Not Found' })
    const id = Number(match[1])
    if (options.failing?.includes(id)) return reply(500, { error_code: 50001, message: 'Error in the backend' })
    const found = schemas.get(id)
    if (!found) return reply(404, { error_code: 40403, message: 'Schema not found' })
    return reply(200, found)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    schemas,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
