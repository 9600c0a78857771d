/**
 * A read model behind an HTTP query API: `url` is a template with `{id}` (one GET per aggregate;
 * the `absentStatuses`, default 404 and 204, mean "no such row"; any other 2xx carries the row:
 * the calculator service of seed 002 answers 202 and 204), `listUrl` optionally returns every row
 * (a JSON array of objects, or an object by id) so that rows without a replayed aggregate can be
 * found too.
 */

import { ConfigError, InvalidDataError, UnreachableError } from '../errors.js'
import { type ReadModel, rowsByKey, scanInMemory } from './read-model.js'
import type { Row } from './row.js'

export interface HttpReadModelSpec {
  url: string
  listUrl?: string
  /** The field holding the aggregate id in listed rows. Default `id`. */
  key?: string
  /** Per request. Default 10 s. */
  timeoutMs?: number
  /** Requests in flight at once. Default 8. */
  concurrency?: number
  /** Statuses that mean "no such row". Default 404 and 204. */
  absentStatuses?: number[]
}

/** How much of a body that is not JSON an error shows. */
const BODY_EXCERPT = 60

export function openHttpReadModel(spec: HttpReadModelSpec): ReadModel & { probe(): Promise<void> } {
  if (!spec.url.includes('{id}')) {
    throw new ConfigError(`readModel.url "${spec.url}" has no {id} placeholder`, {
      code: 'CONFIG_INVALID',
      suggestion: 'e.g. url: http://localhost:8080/accounts/{id}',
    })
  }
  const timeoutMs = spec.timeoutMs ?? 10_000
  const key = spec.key ?? 'id'
  const label = `http ${spec.url}`

  const absent = new Set(spec.absentStatuses ?? [404, 204])
  const getJson = async (url: string): Promise<{ status: number; absent?: boolean; body?: unknown }> => {
    let response: Response
    try {
      response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) })
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : (cause?.code ?? cause?.message ?? (error as Error).message)
      throw new UnreachableError(`read model ${url} unreachable: ${reason}`, {
        code: 'READ_MODEL_UNREACHABLE',
        where: { url },
      })
    }
    if (absent.has(response.status)) {
      await response.body?.cancel()
      return { status: response.status, absent: true }
    }
    const text = await response.text()
    if (!response.ok) {
      throw new UnreachableError(`read model ${url} answered ${response.status} ${response.statusText}`.trim(), {
        code: 'READ_MODEL_UNREACHABLE',
        where: { url, status: response.status },
      })
    }
    try {
      return { status: response.status, body: JSON.parse(text) }
    } catch {
      const excerpt = text.length > BODY_EXCERPT ? `${text.slice(0, BODY_EXCERPT)}…` : text
      throw new InvalidDataError(
        `read model ${url} answered ${response.status} with a body that is not JSON: ${JSON.stringify(excerpt)}`,
        {
          code: 'READ_MODEL_INVALID',
          where: { url, status: response.status },
          suggestion: absent.has(204)
            ? undefined
            : `if ${response.status} means "no such row", list it in readModel.absentStatuses`,
        },
      )
    }
  }

  return {
    label,
    async probe() {
      // Any answer, whatever its status or body, means the API is there.
      const url = spec.url.replaceAll('{id}', '__es_probe__')
      await getJson(url).catch((error: unknown) => {
        if (error instanceof UnreachableError && error.where?.status === undefined) {
          throw new UnreachableError(error.message.replace(url, spec.url), {
            code: 'READ_MODEL_UNREACHABLE',
            where: { url: spec.url },
            suggestion: 'check readModel.url in the config (and that the service is up)',
          })
        }
      })
    },
    async scan() {
      if (spec.listUrl === undefined) return undefined
      const { body } = await getJson(spec.listUrl)
      if (Array.isArray(body)) return scanInMemory(rowsByKey(body.map(asRow), key, label))
      if (body !== null && typeof body === 'object') {
        return scanInMemory(
          new Map(Object.entries(body as Record<string, unknown>).map(([id, row]) => [id, asRow(row)])),
        )
      }
      throw new InvalidDataError(`read model ${spec.listUrl} answered neither a JSON array nor an object`, {
        code: 'READ_MODEL_INVALID',
        where: { url: spec.listUrl },
      })
    },
    async get(ids) {
      const found = new Map<string, Row>()
      let next = 0
      const worker = async () => {
        while (next < ids.length) {
          const id = ids[next++]
          const answer = await getJson(spec.url.replaceAll('{id}', encodeURIComponent(id)))
          if (!answer.absent) found.set(id, asRow(answer.body))
        }
      }
      await Promise.all(Array.from({ length: Math.min(spec.concurrency ?? 8, ids.length) }, worker))
      return found
    },
    async close() {},
  }
}

/** A JSON answer as a row: objects as they are, anything else as `{value}`. */
function asRow(body: unknown): Row {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Row) : { value: body }
}
