/**
 * TLS and SASL against a real broker: a second throw-away broker (the same code as `es local`)
 * with a SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 users) and a TLS listener
 * (a self-signed certificate made with the JDK's keytool), and `es tail` reading through each
 * with the credentials of a config file: the records arrive; a wrong password or an untrusted
 * certificate exits 4 in one line, and no secret is ever printed.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { freePort, startBroker, stopBroker } from '../../src/local/broker.js'
import { ndjsonLines, runEs } from '../support/cli.js'
import { kcatProduce } from '../support/kcat.js'
import { tempDir } from '../support/temp-dir.js'

const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }
const STORE_PASSWORD = 'store-secret-1'

/**
 * A key pair and self-signed certificate made by the JDK's keytool: `<name>.p12` (the keystore,
 * returned) and `<name>.pem` (the certificate, to trust).
 */
function selfSignedCertificate(dir: string, name: string, subject: string[]): string {
  const keystore = join(dir, `${name}.p12`)
  const store = ['-alias', name, '-keystore', keystore, '-storepass', STORE_PASSWORD]
  execFileSync('keytool', [
    '-genkeypair',
    ...store,
    '-keyalg',
    'RSA',
    '-keysize',
    '2048',
    '-validity',
    '2',
    '-storetype',
    'PKCS12',
    '-keypass',
    STORE_PASSWORD,
    ...subject,
  ])
  execFileSync('keytool', ['-exportcert', '-rfc', ...store, '-file', join(dir, `${name}.pem`)])
  return keystore
}

describe('es on a broker with SASL and TLS listeners', () => {
  let dir: string
  let home: string
  let plain: number
  let sasl: number
  let tls: number
  const topic = 'secured.events'

  before(async () => {
    dir = await tempDir('es-secured-')
    home = join(dir, 'broker')
    const keystore = selfSignedCertificate(dir, 'broker', [
      '-dname',
      'CN=127.0.0.1',
      '-ext',
      'SAN=IP:127.0.0.1,DNS:localhost',
    ])
    // An unrelated certificate: trusting only it must fail the TLS handshake.
    selfSignedCertificate(dir, 'other', ['-dname', 'CN=other'])

    plain = await freePort()
    sasl = await freePort()
    tls = await freePort()
    const controller = await freePort()
    const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
    await startBroker({
      port: plain,
      controllerPort: controller,
      home,
      properties: {
        listeners: `PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${sasl},SSL://127.0.0.1:${tls},CONTROLLER://127.0.0.1:${controller}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${sasl},SSL://127.0.0.1:${tls}`,
        'listener.security.protocol.map':
          'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config':
          'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
        'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config': scram,
        'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': scram,
        'ssl.keystore.location': keystore,
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.password': STORE_PASSWORD,
        'ssl.key.password': STORE_PASSWORD,
      },
      formatArgs: [
        '--add-scram',
        'SCRAM-SHA-256=[name=bob,password=bob-secret]',
        '--add-scram',
        'SCRAM-SHA-512=[name=carol,password=carol-secret]',
      ],
    })
    await kcatProduce(`127.0.0.1:${plain}`, topic, [
      ['k1', '{"type":"Noted","n":1}'],
      ['k2', '{"type":"Noted","n":2}'],
    ])
  })

  after(async () => {
    if (plain) await stopBroker({ port: plain, home })
  })

  /** `es tail <topic> -e` with a config holding `connection` (secrets from the environment). */
  async function tail(name: string, connection: string, env: Record<string, string> = {}, extra: string[] = []) {
    const config = join(dir, `${name}.yaml`)
    await writeFile(config, `${connection}\n`)
    return runEs(['tail', topic, '--from-beginning', '-e', '--format', 'ndjson', '--config', config, ...extra], {
      env: { ...cleanEnv, ...env },
      timeoutMs: 60_000,
    })
  }

  const keysOf = (stdout: string) => ndjsonLines<{ key: string }>(stdout).map((line) => line.key)

  for (const [mechanism, user, password] of [
    ['plain', 'alice', 'alice-secret'],
    ['scram-sha-256', 'bob', 'bob-secret'],
    ['scram-sha-512', 'carol', 'carol-secret'],
  ]) {
    it(`SASL ${mechanism}: reads with the right password (from the environment), exits 4 with a wrong one`, async () => {
      const connection = `brokers: 127.0.0.1:${sasl}\nsasl: { mechanism: ${mechanism}, username: ${user}, password: "\${KAFKA_PASSWORD}" }`
      const ok = await tail(`sasl-${mechanism}`, connection, { KAFKA_PASSWORD: password }, ['--verbose'])
      assert.equal(ok.code, 0, ok.stderr)
      assert.deepEqual(keysOf(ok.stdout), ['k1', 'k2'])
      assert.ok(
        !`${ok.stdout}${ok.stderr}`.includes(password),
        'the password is never printed, not even with --verbose',
      )
      const wrong = await tail(`sasl-${mechanism}-wrong`, connection, { KAFKA_PASSWORD: 'not-it' })
      assert.equal(wrong.code, 4, wrong.stderr)
      assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr)
      assert.match(wrong.stderr, /refused access|authenticat/i)
      assert.ok(!wrong.stderr.includes('not-it'))
    })
  }

  it('TLS: reads when the CA file (relative to the config) is trusted; an untrusted certificate exits 4 in one line', async () => {
    const ok = await tail('tls', `brokers: 127.0.0.1:${tls}\nssl: { ca: ./broker.pem }`)
    assert.equal(ok.code, 0, ok.stderr)
    assert.deepEqual(keysOf(ok.stdout), ['k1', 'k2'])
    const untrusted = await tail(
      'tls-untrusted',
      `brokers: 127.0.0.1:${tls}\nssl: { ca: ./other.pem }\nconnectionTimeout: 5s`,
    )
    assert.equal(untrusted.code, 4, untrusted.stderr)
    assert.equal(untrusted.stderr.trim().split('\n').length, 1, untrusted.stderr)
    const missing = await tail('tls-missing', `brokers: 127.0.0.1:${tls}\nssl: { ca: ./nope.pem }`)
    assert.equal(missing.code, 3, missing.stderr)
    assert.match(missing.stderr, /ssl\.ca: cannot read \S+nope\.pem/)
  })
})
