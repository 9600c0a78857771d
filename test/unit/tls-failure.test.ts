import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ExitCode, UnreachableError } from '../../src/errors.js'
import { kafkaClientConfig, toEsError } from '../../src/kafka/connection.js'
import { certificateNames, isTlsFailure, tlsFailure } from '../../src/kafka/tls-failure.js'

const broker = '10.0.0.7:9093'

/** Error shapes as Node's TLS sockets report them (codes and texts copied from real failures). */
const alert42 = {
  code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  message:
    '804C46DA5B7F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42\n',
  reason: 'sslv3 alert bad certificate',
}
const alert46 = {
  code: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  message:
    '804C46DA5B7F0000:error:0A000416:SSL routines:ssl3_read_bytes:sslv3 alert certificate unknown:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 46\n',
}

describe('TLS handshake failures in words', () => {
  it('names an untrusted broker certificate, with or without a configured CA', () => {
    const configured = tlsFailure(
      { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' },
      { broker, ssl: { ca: 'PEM' } },
    )
    assert.ok(configured instanceof UnreachableError)
    assert.equal(configured.exitCode, ExitCode.unreachable)
    assert.equal(
      configured.message,
      "TLS connection to 10.0.0.7:9093 failed: the broker's certificate is not signed by the configured CA (ssl.ca)",
    )
    assert.match(configured.suggestion ?? '', /^set ssl\.ca /)
    const system = tlsFailure({ code: 'SELF_SIGNED_CERT_IN_CHAIN' }, { broker, ssl: true })
    assert.match(system?.message ?? '', /not signed by a CA this system trusts \(no ssl\.ca is configured\)/)
  })

  it('names the host checked and the names the certificate has', () => {
    const error = {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      host: 'localhost',
      cert: { subjectaltname: 'DNS:wrong.example, IP Address:10.9.9.9' },
    }
    const failure = tlsFailure(error, { broker: 'localhost:9093', ssl: { ca: 'PEM' } })
    assert.equal(
      failure?.message,
      "TLS connection to localhost:9093 failed: the broker's certificate does not name localhost (it names wrong.example, 10.9.9.9)",
    )
    assert.match(failure?.suggestion ?? '', /ssl\.servername: wrong\.example .*the CA is still verified/)
    const overridden = tlsFailure(error, { broker: 'localhost:9093', ssl: { servername: 'other.example' } })
    assert.match(overridden?.message ?? '', /does not name other\.example/)
    assert.deepEqual(certificateNames({ subject: { CN: 'only-cn' } }), ['only-cn'])
  })

  it('says when the certificate expired', () => {
    const failure = tlsFailure(
      { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' },
      { broker, ssl: {}, validTo: 'Nov 30 23:22:32 2026 GMT' },
    )
    assert.equal(
      failure?.message,
      "TLS connection to 10.0.0.7:9093 failed: the broker's certificate has expired (valid until Nov 30 23:22:32 2026 GMT)",
    )
  })

  it('turns the alert about our client certificate into one line naming ssl.cert and ssl.key', () => {
    const none = tlsFailure(alert42, { broker, ssl: { ca: 'PEM' } })
    assert.equal(
      none?.message,
      'TLS connection to 10.0.0.7:9093 failed: the broker requires a client certificate and none is configured (TLS alert 42: bad certificate)',
    )
    assert.match(none?.suggestion ?? '', /ssl\.cert and ssl\.key/)
    const rejected = tlsFailure(alert46, { broker, ssl: { cert: 'PEM', key: 'PEM' } })
    assert.equal(
      rejected?.message,
      'TLS connection to 10.0.0.7:9093 failed: the broker rejected our client certificate (TLS alert 46: certificate unknown)',
    )
    for (const failure of [none, rejected]) assert.doesNotMatch(failure?.message ?? '', /\n|SSL routines/)
  })

  it('leaves other socket errors alone', () => {
    assert.equal(isTlsFailure({ code: 'ECONNREFUSED' }), false)
    assert.equal(tlsFailure({ code: 'ECONNRESET', message: 'socket hang up' }, { broker, ssl: true }), undefined)
  })

  it('maps a kafkajs connection error that kept a TLS code (a later handshake) the same way', () => {
    const kafkajs = Object.assign(new Error(`Connection error: ${alert42.message}`), {
      name: 'KafkaJSConnectionError',
      code: alert42.code,
    })
    const mapped = toEsError(kafkajs, { brokers: [broker], ssl: { ca: 'PEM' } }, 'following')
    assert.ok(mapped instanceof UnreachableError)
    assert.match(mapped.message, /requires a client certificate .*TLS alert 42/)
  })

  it('maps an address without the broker APIs (a controller listener) to exit 4, not a bug', () => {
    const error = Object.assign(new Error('The Kafka server does not support the requested API version'), {
      name: 'KafkaJSServerDoesNotSupportApiKey',
    })
    const mapped = toEsError(error, { brokers: ['db.internal:9093'] }, 'connecting')
    assert.ok(mapped instanceof UnreachableError)
    assert.equal(mapped.message, 'db.internal:9093 is not a broker listener')
  })
})

describe('TLS options', () => {
  const base = { brokers: ['b:9093'], clientId: 'es', connectionTimeoutMs: 1000, requestTimeoutMs: 1000 }
  const cert = { subject: { CN: 'wrong.example' }, subjectaltname: 'DNS:wrong.example' } as never

  it('verifies the host name by default; servername checks another name, and is SNI unless an IP', () => {
    const plain = kafkaClientConfig({ ...base, ssl: { ca: '-----BEGIN CERTIFICATE-----\n' } }).ssl as Record<
      string,
      unknown
    >
    assert.equal(plain.checkServerIdentity, undefined, "Node's own check of the broker address")
    assert.equal(plain.rejectUnauthorized, undefined)
    const named = kafkaClientConfig({ ...base, ssl: { servername: 'wrong.example' } }).ssl as {
      servername?: string
      checkServerIdentity: (host: string, cert: never) => Error | undefined
    }
    assert.equal(named.servername, 'wrong.example')
    assert.equal(named.checkServerIdentity('b', cert), undefined)
    const other = kafkaClientConfig({ ...base, ssl: { servername: 'other.example' } }).ssl as typeof named
    assert.ok(other.checkServerIdentity('b', cert) instanceof Error)
    const ip = kafkaClientConfig({ ...base, ssl: { servername: '10.1.2.3' } }).ssl as typeof named
    assert.equal(ip.servername, undefined, 'an IP address is not a valid SNI name')
  })

  it('checkHostname: false accepts any name but leaves the chain verified', () => {
    const options = kafkaClientConfig({ ...base, ssl: { checkHostname: false } }).ssl as {
      rejectUnauthorized?: boolean
      checkServerIdentity: (host: string, cert: never) => Error | undefined
    }
    assert.equal(options.checkServerIdentity('b', cert), undefined)
    assert.notEqual(options.rejectUnauthorized, false)
  })
})
