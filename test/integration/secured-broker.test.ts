/**
 * TLS and SASL against a real broker (test/support/secured-broker.ts: SASL_PLAINTEXT, SASL_SSL,
 * TLS, TLS requiring client certificates, a certificate for the wrong host, an expired one; all
 * made by OpenSSL), with `es tail` reading through each with the settings of a config file:
 * - the records arrive where the settings are right;
 * - every TLS failure exits 4 at once (the configs allow 60 s to connect; each run gets 20 s, so
 *   retrying until the timeout fails the test), in one line naming the cause and the setting;
 * - the host-name check is skipped only through `ssl.servername` / `ssl.checkHostname: false`,
 *   which still verify the CA; `rejectUnauthorized: false` warns on every run;
 * - a wrong password exits 4 in one line and no secret is printed.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type EsRun, ndjsonLines, runEs } from '../support/cli.js'
import { kcatProduce } from '../support/kcat.js'
import { type SecuredBroker, startSecuredBroker } from '../support/secured-broker.js'

const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }
const topic = 'secured.events'
/** Far longer than any answer should take: a run that waits for the connection timeout fails. */
const FAST = 20_000

describe('es on a broker with SASL and TLS listeners', () => {
  let broker: SecuredBroker

  before(async () => {
    broker = await startSecuredBroker()
    await kcatProduce(`127.0.0.1:${broker.ports.plain}`, topic, [
      ['k1', '{"type":"Noted","n":1}'],
      ['k2', '{"type":"Noted","n":2}'],
    ])
  })

  after(async () => {
    await broker?.stop()
  })

  /** `es tail <topic> -e` with a config holding `connection` (written next to the certificates). */
  async function tail(
    name: string,
    connection: string,
    options: { env?: Record<string, string>; extra?: string[]; timeoutMs?: number } = {},
  ): Promise<EsRun> {
    const config = join(broker.dir, `${name}.yaml`)
    await writeFile(config, `${connection}\n`, { mode: 0o600 })
    return runEs(
      ['tail', topic, '--from-beginning', '-e', '--format', 'ndjson', '--config', config, ...(options.extra ?? [])],
      { env: { ...cleanEnv, ...options.env }, timeoutMs: options.timeoutMs ?? 60_000 },
    )
  }

  const keysOf = (stdout: string) => ndjsonLines<{ key: string }>(stdout).map((line) => line.key)
  const at = (listener: keyof SecuredBroker['ports']) => `brokers: 127.0.0.1:${broker.ports[listener]}`

  /** Exit 4 long before the connection timeout, one line on stderr matching `cause`. */
  function assertTlsFailure(run: EsRun, cause: RegExp, suggestion: RegExp): void {
    assert.equal(run.code, 4, run.stderr)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
    assert.match(run.stderr, /^error: TLS connection to 127\.0\.0\.1:\d+ failed: /)
    assert.match(run.stderr, cause)
    assert.match(run.stderr, suggestion)
    assert.doesNotMatch(run.stderr, /did not answer|check that the broker runs|SSL routines/)
    assert.equal(run.stdout, '')
  }

  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    it(`SASL ${mechanism}: reads with the right password (from the environment), exits 4 with a wrong one`, async () => {
      const [user, password] = broker.users[mechanism]
      const connection = `${at('sasl')}\nsasl: { mechanism: ${mechanism}, username: ${user}, password: "\${KAFKA_PASSWORD}" }`
      const ok = await tail(`sasl-${mechanism}`, connection, {
        env: { KAFKA_PASSWORD: password },
        extra: ['--verbose'],
      })
      assert.equal(ok.code, 0, ok.stderr)
      assert.deepEqual(keysOf(ok.stdout), ['k1', 'k2'])
      assert.ok(
        !`${ok.stdout}${ok.stderr}`.includes(password),
        'the password is never printed, not even with --verbose',
      )
      const wrong = await tail(`sasl-${mechanism}-wrong`, connection, {
        env: { KAFKA_PASSWORD: 'not-it' },
        extra: ['--quiet'],
      })
      assert.equal(wrong.code, 4, wrong.stderr)
      assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr)
      assert.match(wrong.stderr, /refused access|authenticat/i)
      assert.ok(!wrong.stderr.includes('not-it'))
    })
  }

  it('SASL over TLS reads without a warning; SASL PLAIN without TLS warns in one line', async () => {
    const [user, password] = broker.users['scram-sha-512']
    const overTls = await tail(
      'sasl-ssl',
      `${at('saslSsl')}\nssl: { ca: ./ca.pem }\nsasl: { mechanism: scram-sha-512, username: ${user}, password: "\${KAFKA_PASSWORD}" }`,
      { env: { KAFKA_PASSWORD: password } },
    )
    assert.equal(overTls.code, 0, overTls.stderr)
    assert.deepEqual(keysOf(overTls.stdout), ['k1', 'k2'])
    assert.doesNotMatch(overTls.stderr, /warning/, overTls.stderr)

    const [plainUser, plainPassword] = broker.users.plain
    const clear = await tail(
      'sasl-clear',
      `${at('sasl')}\nsasl: { mechanism: plain, username: ${plainUser}, password: "\${KAFKA_PASSWORD}" }`,
      { env: { KAFKA_PASSWORD: plainPassword } },
    )
    assert.equal(clear.code, 0, clear.stderr)
    const warnings = clear.stderr.split('\n').filter((line) => line.startsWith('warning'))
    assert.equal(warnings.length, 1, clear.stderr)
    assert.match(warnings[0], /SASL PLAIN without TLS sends the password .* in clear text; set ssl/)
  })

  it('TLS: reads when the CA file (relative to the config) is trusted; a missing CA file is exit 3', async () => {
    const ok = await tail('tls', `${at('tls')}\nssl: { ca: ./ca.pem }`)
    assert.equal(ok.code, 0, ok.stderr)
    assert.deepEqual(keysOf(ok.stdout), ['k1', 'k2'])
    const missing = await tail('tls-missing', `${at('tls')}\nssl: { ca: ./nope.pem }`)
    assert.equal(missing.code, 3, missing.stderr)
    assert.match(missing.stderr, /ssl\.ca: cannot read \S+nope\.pem/)
  })

  it('a broker certificate from another CA, or none configured, exits 4 at once naming ssl.ca', async () => {
    const other = await tail('tls-other-ca', `${at('tls')}\nssl: { ca: ./other-ca.pem }\nconnectionTimeout: 60s`, {
      timeoutMs: FAST,
    })
    assertTlsFailure(other, /the broker's certificate is not signed by the configured CA \(ssl\.ca\)/, /set ssl\.ca/)
    const system = await tail('tls-system-ca', `${at('tls')}\nssl: true\nconnectionTimeout: 60s`, { timeoutMs: FAST })
    assertTlsFailure(system, /not signed by a CA this system trusts \(no ssl\.ca is configured\)/, /set ssl\.ca/)
  })

  it('an expired broker certificate exits 4 at once saying so', async () => {
    const run = await tail('tls-expired', `${at('expired')}\nssl: { ca: ./ca.pem }\nconnectionTimeout: 60s`, {
      timeoutMs: FAST,
    })
    assertTlsFailure(run, /the broker's certificate has expired \(valid until [A-Z][a-z]{2} /, /renewed certificate/)
  })

  it('mutual TLS: no client certificate and one from another CA exit 4 at once; the right one reads', async () => {
    const none = await tail('mtls-none', `${at('mtls')}\nssl: { ca: ./ca.pem }\nconnectionTimeout: 60s`, {
      timeoutMs: FAST,
    })
    assertTlsFailure(
      none,
      /the broker requires a client certificate and none is configured \(TLS alert 42: bad certificate\)/,
      /set ssl\.cert and ssl\.key/,
    )
    const other = await tail(
      'mtls-other',
      `${at('mtls')}\nssl: { ca: ./ca.pem, cert: ./other-client.pem, key: ./other-client.key }\nconnectionTimeout: 60s`,
      { timeoutMs: FAST },
    )
    assertTlsFailure(
      other,
      /the broker rejected our client certificate \(TLS alert 46: certificate unknown\)/,
      /set ssl\.cert and ssl\.key to a certificate and key signed by a CA the broker trusts/,
    )
    const ok = await tail('mtls-ok', `${at('mtls')}\nssl: { ca: ./ca.pem, cert: ./client.pem, key: ./client.key }`)
    assert.equal(ok.code, 0, ok.stderr)
    assert.deepEqual(keysOf(ok.stdout), ['k1', 'k2'])
  })

  it('a certificate for another host is refused by default, naming the names it has', async () => {
    const run = await tail('wrong-host', `${at('wrongHost')}\nssl: { ca: ./ca.pem }\nconnectionTimeout: 60s`, {
      timeoutMs: FAST,
    })
    assertTlsFailure(
      run,
      /the broker's certificate does not name 127\.0\.0\.1 \(it names wrong\.example\)/,
      /set ssl\.servername: wrong\.example/,
    )
    const otherName = await tail(
      'wrong-host-other-name',
      `${at('wrongHost')}\nssl: { ca: ./ca.pem, servername: other.example }\nconnectionTimeout: 60s`,
      { timeoutMs: FAST },
    )
    assertTlsFailure(otherName, /does not name other\.example \(it names wrong\.example\)/, /ssl\.servername/)
  })

  it('the host-name check is skipped only through ssl.servername or ssl.checkHostname: false, and the CA is still verified', async () => {
    for (const [name, ssl] of [
      ['servername', '{ ca: ./ca.pem, servername: wrong.example }'],
      ['no-hostname-check', '{ ca: ./ca.pem, checkHostname: false }'],
    ]) {
      const ok = await tail(name, `${at('wrongHost')}\nssl: ${ssl}`)
      assert.equal(ok.code, 0, ok.stderr)
      assert.deepEqual(keysOf(ok.stdout), ['k1', 'k2'])
      assert.doesNotMatch(ok.stderr, /warning/, 'the narrow overrides need no warning')
    }
    const untrusted = await tail(
      'no-hostname-check-other-ca',
      `${at('wrongHost')}\nssl: { ca: ./other-ca.pem, checkHostname: false }\nconnectionTimeout: 60s`,
      { timeoutMs: FAST },
    )
    assertTlsFailure(untrusted, /not signed by the configured CA/, /ssl\.ca/)
  })

  it('rejectUnauthorized: false connects to anything and warns on every run, --quiet and warnings: false included', async () => {
    for (const [name, extra, more] of [
      ['unverified', [], ''],
      ['unverified-quiet', ['--quiet'], '\nwarnings: false'],
    ] as const) {
      const run = await tail(name, `${at('wrongHost')}\nssl: { rejectUnauthorized: false }${more}`, {
        extra: [...extra],
      })
      assert.equal(run.code, 0, run.stderr)
      assert.deepEqual(keysOf(run.stdout), ['k1', 'k2'])
      const warnings = run.stderr.split('\n').filter((line) => line.startsWith('warning'))
      assert.equal(warnings.length, 1, run.stderr)
      assert.match(
        warnings[0],
        /ssl\.rejectUnauthorized is false: the certificate of 127\.0\.0\.1:\d+ is not verified at all .*ssl\.servername or ssl\.checkHostname: false/,
      )
    }
  })
})
