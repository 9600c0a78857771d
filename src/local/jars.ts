/**
 * Apache Kafka's jars, resolved once from Maven Central into a cache outside the work tree
 * (`$ES_CACHE_DIR`, default `~/.cache/es`) and reused by every broker and tool launch.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { ConfigError, UnreachableError } from '../errors.js'
import { packageFile } from '../package-root.js'

const execFileAsync = promisify(execFile)

export const KAFKA_VERSION = '4.1.1'

/** The pom listing the jars; shipped with the package (`scripts/kafka/pom.xml`). */
const pomPath = packageFile('scripts/kafka/pom.xml')

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.ES_CACHE_DIR ?? join(homedir(), '.cache', 'es')
}

export function kafkaLibDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `kafka-${KAFKA_VERSION}`, 'lib')
}

/** Throws ConfigError (exit 3) naming what to install when `tool` is not on the PATH. */
export async function requireTool(tool: 'java' | 'mvn', hint: string): Promise<void> {
  try {
    await execFileAsync(tool, ['-version'], { timeout: 30_000 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`${tool} was not found on the PATH`, { code: 'MISSING_TOOL', suggestion: hint })
    }
    // `java -version` prints to stderr and exits 0; any other failure still means the tool exists.
  }
}

/** Returns the directory holding every jar, resolving it with Maven on first use. */
export async function ensureKafkaJars(
  env: NodeJS.ProcessEnv = process.env,
  log?: (line: string) => void,
): Promise<string> {
  const lib = kafkaLibDir(env)
  const marker = join(lib, '.complete')
  if (existsSync(marker)) return lib
  await requireTool('mvn', 'install Maven 3.8+ (Debian: apt-get install maven)')
  log?.(`resolving Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${lib} (once)…`)
  const work = `${lib}.partial-${process.pid}`
  await rm(work, { recursive: true, force: true })
  await mkdir(work, { recursive: true })
  const pom = join(work, 'pom.xml')
  await copyFile(pomPath, pom)
  try {
    await execFileAsync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        pom,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${join(work, 'lib')}`,
        '-DincludeScope=runtime',
      ],
      { timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 },
    )
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`
    const lastLine = output.trim().split('\n').filter(Boolean).pop() ?? String(error)
    throw new UnreachableError(`could not resolve Kafka jars with Maven: ${lastLine}`, {
      code: 'JARS_UNRESOLVED',
      suggestion: 'check that Maven Central is reachable (or a mirror in ~/.m2/settings.xml)',
    })
  }
  await writeFile(join(work, 'lib', '.complete'), `${KAFKA_VERSION}\n`)
  await mkdir(dirname(lib), { recursive: true })
  await rm(lib, { recursive: true, force: true })
  await rename(join(work, 'lib'), lib)
  await rm(work, { recursive: true, force: true })
  return lib
}

/** Arguments for `java` to run one of Kafka's tools (`org.apache.kafka.tools.…`) or the broker. */
export function javaArgs(lib: string, mainClass: string, args: string[], heap = '-Xmx512m'): string[] {
  return [heap, '-XX:+UseSerialGC', '-cp', `${lib}/*`, mainClass, ...args]
}
