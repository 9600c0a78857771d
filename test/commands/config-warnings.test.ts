// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config text with ${VAR} references, as users write it
/**
 * Risky configuration through the real binary: one warning line each on stderr (never stdout,
 * also under --json), silenced by --quiet or `warnings: false`; and config errors about values
 * from `${VAR}` that name the variable, never the value, with --verbose and --json too. The
 * brokers are a port where nothing listens: every run ends quickly with exit 4 after loading the
 * config.
 */
import assert from 'node:assert/strict'
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { freePort } from '../../src/local/broker.js'
import { runEs } from '../support/cli.js'
import { tempDir } from '../support/temp-dir.js'

const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

describe('warnings about risky configuration', () => {
  let dir: string
  let brokers: string

  before(async () => {
    dir = await tempDir('es-warnings-')
    brokers = `127.0.0.1:${await freePort()}`
  })

  async function run(name: string, text: string, mode: number, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
    const file = join(dir, `${name}.yaml`)
    await writeFile(file, `brokers: ${brokers}\n${text}\n`)
    await chmod(file, mode)
    return runEs(['replay', '--from-beginning', '--topic', 't', '--reducer', 'count', '--config', file, ...extra], {
      env: { ...cleanEnv, ...env },
      cwd: dir,
      timeoutMs: 30_000,
    })
  }
  const warningsOf = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('warning'))

  it('a literal password in a file others can read, over SASL without TLS: three lines', async () => {
    const result = await run('literal', 'sasl: { mechanism: plain, username: ops, password: open-sesame }', 0o644, [
      '--json',
    ])
    assert.equal(result.code, 4, result.stderr)
    assert.deepEqual(warningsOf(result.stderr), [
      'warning literal.yaml: sasl.password is written in the file; read it from the environment instead (password: "${KAFKA_PASSWORD}")',
      'warning literal.yaml holds secrets (sasl.password) and others can read it (mode 644); chmod 600 literal.yaml',
      `warning SASL PLAIN without TLS sends the password to ${brokers} in clear text; set ssl (true, or {ca: …})`,
    ])
    assert.doesNotMatch(result.stdout, /warning/, 'stdout is the JSON error only')
    assert.ok(!`${result.stdout}${result.stderr}`.includes('open-sesame'))
  })

  it('mode 600 is not warned about; a password from ${VAR} is not either', async () => {
    const literal = await run('private', 'sasl: { mechanism: plain, username: ops, password: open-sesame }', 0o600)
    assert.equal(warningsOf(literal.stderr).filter((w) => /others can read/.test(w)).length, 0, literal.stderr)
    const fromEnv = await run(
      'from-env',
      'ssl: true\nsasl: { mechanism: scram-sha-256, username: ops, password: "${KAFKA_PASSWORD}" }',
      0o644,
      [],
      { KAFKA_PASSWORD: 'open-sesame' },
    )
    assert.deepEqual(warningsOf(fromEnv.stderr), [], fromEnv.stderr)
  })

  it('--quiet and warnings: false silence them', async () => {
    const text = 'sasl: { mechanism: plain, username: ops, password: open-sesame }'
    const quiet = await run('quiet', text, 0o644, ['--quiet'])
    assert.equal(quiet.code, 4)
    assert.deepEqual(warningsOf(quiet.stderr), [], quiet.stderr)
    const off = await run('off', `${text}\nwarnings: false`, 0o644)
    assert.equal(off.code, 4)
    assert.deepEqual(warningsOf(off.stderr), [], off.stderr)
  })

  it('a config error about a value from ${VAR} names the variable, not the value', async () => {
    const secret = 'Sup3r-secret-value-1'
    for (const extra of [[], ['--verbose'], ['--json']]) {
      const result = await run(
        'misplaced',
        'sasl: { mechanism: "${KAFKA_PASSWORD}", username: ops, password: "${KAFKA_PASSWORD}" }',
        0o600,
        extra,
        { KAFKA_PASSWORD: secret },
      )
      assert.equal(result.code, 3, result.stderr)
      assert.match(result.stderr, /sasl\.mechanism must be .*\(got the value of \$\{KAFKA_PASSWORD\}\)/)
      assert.ok(!`${result.stdout}${result.stderr}`.includes(secret), `${extra}: ${result.stdout}${result.stderr}`)
    }
  })
})
