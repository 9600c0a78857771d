/**
 * A second throw-away broker (the same code as `es local`) with one listener per security setup
 * operators meet, and the certificates for them, made by OpenSSL (not by our code):
 *
 * | listener   | protocol        | what it checks / presents                                          |
 * |------------|-----------------|--------------------------------------------------------------------|
 * | plain      | PLAINTEXT       | nothing (tests produce their fixtures here)                        |
 * | sasl       | SASL_PLAINTEXT  | PLAIN alice, SCRAM-SHA-256 bob, SCRAM-SHA-512 carol                |
 * | saslSsl    | SASL_SSL        | the same users, over TLS                                           |
 * | tls        | SSL             | a certificate for 127.0.0.1/localhost signed by the test CA        |
 * | mtls       | SSL             | the same, and requires a client certificate signed by the test CA  |
 * | wrongHost  | SSL             | a certificate (test CA) for wrong.example only                     |
 * | expired    | SSL             | a certificate (test CA) for 127.0.0.1 that expired yesterday       |
 *
 * `files` are PEM files: `ca` (the test CA), `otherCa` (an unrelated CA), `clientCert`/`clientKey`
 * (signed by the test CA) and `otherClientCert`/`otherClientKey` (signed by the other CA).
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, startBroker, stopBroker } from '../../src/local/broker.js'
import { tempDir } from './temp-dir.js'

export interface SecuredBroker {
  dir: string
  ports: Record<'plain' | 'sasl' | 'saslSsl' | 'tls' | 'mtls' | 'wrongHost' | 'expired' | 'controller', number>
  files: Record<'ca' | 'otherCa' | 'clientCert' | 'clientKey' | 'otherClientCert' | 'otherClientKey', string>
  /** SASL users: mechanism → [user, password]. */
  users: Record<'plain' | 'scram-sha-256' | 'scram-sha-512', [string, string]>
  stop(): Promise<void>
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** `openssl req` with a new RSA key in `<name>.key` (unencrypted PKCS#8) for `subject`, and `output`. */
function newKey(dir: string, name: string, subject: string, output: string[]): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', subject, ...output])
}

/** A CA: `<name>.pem` (certificate) and `<name>.key`. */
function makeCa(dir: string, name: string, subject: string): void {
  newKey(dir, name, subject, ['-x509', '-days', '2', '-out', `${name}.pem`])
}

/**
 * A key (`<name>.key`) and a certificate (`<name>.pem`) signed by `ca`, valid for `days`
 * (negative: it expired that many days ago), with the subject alternative names `san`.
 */
function makeCertificate(
  dir: string,
  name: string,
  options: { ca: string; subject: string; san?: string; days?: number; clientAuth?: boolean },
): void {
  newKey(dir, name, options.subject, ['-new', '-out', `${name}.csr`])
  const extensions = [
    options.san ? `subjectAltName=${options.san}` : '',
    `extendedKeyUsage=${options.clientAuth ? 'clientAuth' : 'serverAuth'}`,
  ]
  writeFileSync(join(dir, `${name}.ext`), `${extensions.filter(Boolean).join('\n')}\n`)
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${options.ca}.pem`,
    '-CAkey',
    `${options.ca}.key`,
    '-CAcreateserial',
    '-days',
    String(options.days ?? 2),
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ])
}

/** The key and certificate chain in one PEM file, as Kafka's PEM keystores take them. */
function keystore(dir: string, name: string): string {
  const path = join(dir, `${name}-keystore.pem`)
  execFileSync('sh', ['-c', `cat ${name}.key ${name}.pem > ${path}`], { cwd: dir })
  return path
}

export async function startSecuredBroker(): Promise<SecuredBroker> {
  const dir = await tempDir('es-secured-')
  const home = join(dir, 'broker')
  makeCa(dir, 'ca', '/CN=es-test-ca')
  makeCa(dir, 'other-ca', '/CN=es-other-ca')
  makeCertificate(dir, 'broker', { ca: 'ca', subject: '/CN=127.0.0.1', san: 'IP:127.0.0.1,DNS:localhost' })
  makeCertificate(dir, 'wrong-host', { ca: 'ca', subject: '/CN=wrong.example', san: 'DNS:wrong.example' })
  makeCertificate(dir, 'expired', {
    ca: 'ca',
    subject: '/CN=127.0.0.1',
    san: 'IP:127.0.0.1,DNS:localhost',
    days: -1,
  })
  makeCertificate(dir, 'client', { ca: 'ca', subject: '/CN=es-client', clientAuth: true })
  makeCertificate(dir, 'other-client', { ca: 'other-ca', subject: '/CN=es-client', clientAuth: true })

  const names = ['plain', 'sasl', 'saslSsl', 'tls', 'mtls', 'wrongHost', 'expired', 'controller'] as const
  const ports = {} as SecuredBroker['ports']
  for (const name of names) ports[name] = await freePort()
  const listener = {
    plain: 'PLAINTEXT',
    sasl: 'SASL_PLAINTEXT',
    saslSsl: 'SASL_SSL',
    tls: 'SSL',
    mtls: 'MTLS',
    wrongHost: 'WRONGHOST',
    expired: 'EXPIRED',
  } as const
  const addresses = (Object.keys(listener) as Array<keyof typeof listener>).map(
    (name) => `${listener[name]}://127.0.0.1:${ports[name]}`,
  )
  const users: SecuredBroker['users'] = {
    plain: ['alice', 'alice-secret'],
    'scram-sha-256': ['bob', 'bob-secret'],
    'scram-sha-512': ['carol', 'carol-secret'],
  }
  const plainJaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${users.plain[0]}="${users.plain[1]}";`
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
  const sasl: Record<string, string> = {}
  for (const name of ['sasl_plaintext', 'sasl_ssl']) {
    sasl[`listener.name.${name}.plain.sasl.jaas.config`] = plainJaas
    sasl[`listener.name.${name}.scram-sha-256.sasl.jaas.config`] = scram
    sasl[`listener.name.${name}.scram-sha-512.sasl.jaas.config`] = scram
  }
  const pemKeystore = (name: string, path: string) => ({
    [`listener.name.${name}.ssl.keystore.type`]: 'PEM',
    [`listener.name.${name}.ssl.keystore.location`]: path,
  })
  await startBroker({
    port: ports.plain,
    controllerPort: ports.controller,
    home,
    properties: {
      listeners: [...addresses, `CONTROLLER://127.0.0.1:${ports.controller}`].join(','),
      'advertised.listeners': addresses.join(','),
      'listener.security.protocol.map': [
        'CONTROLLER:PLAINTEXT',
        'PLAINTEXT:PLAINTEXT',
        'SASL_PLAINTEXT:SASL_PLAINTEXT',
        'SASL_SSL:SASL_SSL',
        'SSL:SSL',
        'MTLS:SSL',
        'WRONGHOST:SSL',
        'EXPIRED:SSL',
      ].join(','),
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      ...sasl,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': keystore(dir, 'broker'),
      ...pemKeystore('wronghost', keystore(dir, 'wrong-host')),
      ...pemKeystore('expired', keystore(dir, 'expired')),
      'listener.name.mtls.ssl.client.auth': 'required',
      'listener.name.mtls.ssl.truststore.type': 'PEM',
      'listener.name.mtls.ssl.truststore.location': join(dir, 'ca.pem'),
    },
    formatArgs: [
      '--add-scram',
      `SCRAM-SHA-256=[name=${users['scram-sha-256'][0]},password=${users['scram-sha-256'][1]}]`,
      '--add-scram',
      `SCRAM-SHA-512=[name=${users['scram-sha-512'][0]},password=${users['scram-sha-512'][1]}]`,
    ],
  })
  return {
    dir,
    ports,
    files: {
      ca: join(dir, 'ca.pem'),
      otherCa: join(dir, 'other-ca.pem'),
      clientCert: join(dir, 'client.pem'),
      clientKey: join(dir, 'client.key'),
      otherClientCert: join(dir, 'other-client.pem'),
      otherClientKey: join(dir, 'other-client.key'),
    },
    users,
    stop: async () => {
      await stopBroker({ port: ports.plain, home })
    },
  }
}
