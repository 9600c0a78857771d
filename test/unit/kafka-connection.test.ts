import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { KafkaConnection } from '../../src/config/types.js'
import { ConfigError, ExitCode, NotFoundError, UnreachableError } from '../../src/errors.js'
import { kafkaClientConfig, retryWithin, toEsError, withDeadline } from '../../src/kafka/connection.js'
import { tempDir } from '../support/temp-dir.js'

const base: KafkaConnection = {
  brokers: ['b1:9092', 'b2:9092'],
  clientId: 'es',
  connectionTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
}

/** A kafkajs-shaped error (kafkajs is not loaded by the code under test). */
function kafkajsError(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...extra })
}

describe('kafka connection options', () => {
  it('maps brokers, client id, timeouts and SASL', () => {
    const config = kafkaClientConfig({
      ...base,
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 's3cret' },
    })
    assert.deepEqual(config.brokers, ['b1:9092', 'b2:9092'])
    assert.equal(config.clientId, 'es')
    assert.equal(config.connectionTimeout, 10_000)
    assert.equal(config.requestTimeout, 30_000)
    assert.equal(config.enforceRequestTimeout, true)
    assert.deepEqual(config.sasl, { mechanism: 'scram-sha-512', username: 'alice', password: 's3cret' })
    assert.equal(config.ssl, undefined)
  })

  it('takes TLS material as PEM text or as a file path', async () => {
    const dir = await tempDir('es-tls-')
    const caFile = join(dir, 'ca.pem')
    await writeFile(caFile, '-----BEGIN CERTIFICATE-----\nfrom file\n-----END CERTIFICATE-----\n')
    const config = kafkaClientConfig({
      ...base,
      ssl: { ca: caFile, cert: '-----BEGIN CERTIFICATE-----\ninline\n', rejectUnauthorized: false },
    })
    assert.deepEqual(config.ssl, {
      ca: '-----BEGIN CERTIFICATE-----\nfrom file\n-----END CERTIFICATE-----\n',
      cert: '-----BEGIN CERTIFICATE-----\ninline\n',
      rejectUnauthorized: false,
    })
    assert.equal(kafkaClientConfig({ ...base, ssl: true }).ssl, true)
    assert.throws(
      () => kafkaClientConfig({ ...base, ssl: { ca: join(dir, 'missing.pem') } }),
      (error: unknown) => error instanceof ConfigError && /ssl\.ca/.test(error.message),
    )
  })

  it('sends kafkajs log lines to the debug callback only', () => {
    const lines: string[] = []
    const quiet = kafkaClientConfig(base)
    assert.equal(quiet.logLevel, 0, 'NOTHING without a debug callback')
    const logger = kafkaClientConfig(base, { debug: (line) => lines.push(line) })
    assert.equal(logger.logLevel, 5, 'DEBUG with one')
    const log = logger.logCreator?.(5)
    log?.({
      namespace: 'Connection',
      level: 5,
      label: 'DEBUG',
      log: { message: 'Request Fetch(key: 1, version: 11)', timestamp: 'x', logger: 'kafkajs', size: 52 } as never,
    })
    assert.deepEqual(lines, ['kafkajs DEBUG Connection: Request Fetch(key: 1, version: 11) {"size":52}'])
  })

  it('retries connecting for about the connection timeout, no longer', () => {
    const total = (r: { retries: number; initialRetryTime: number; maxRetryTime: number }) => {
      let sum = 0
      for (let i = 0, wait = r.initialRetryTime; i < r.retries; i++, wait = Math.min(wait * 2, r.maxRetryTime))
        sum += wait
      return sum
    }
    for (const ms of [1000, 1500, 10_000, 60_000]) {
      const retry = retryWithin(ms)
      assert.ok(total(retry) <= ms, `${ms}: ${total(retry)}`)
      assert.ok(total({ ...retry, retries: retry.retries + 1 }) > ms, `${ms}: one more retry would pass the timeout`)
    }
  })
})

describe('kafka errors', () => {
  it('maps connection failures and timeouts to UnreachableError (exit 4) naming the brokers', () => {
    for (const error of [
      kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      kafkajsError('KafkaJSNumberOfRetriesExceeded', 'retries exceeded', {
        cause: kafkajsError('KafkaJSConnectionError', 'Connection timeout'),
      }),
      kafkajsError('KafkaJSRequestTimeoutError', 'Request Metadata(key: 3, version: 6) timed out'),
    ]) {
      const mapped = toEsError(error, base, 'reading bank.events')
      assert.ok(mapped instanceof UnreachableError, String(error))
      assert.equal(mapped.exitCode, ExitCode.unreachable)
      assert.match(mapped.message, /^Kafka at b1:9092,b2:9092 is unreachable while reading bank\.events: /)
      assert.equal(mapped.code, 'KAFKA_UNREACHABLE')
    }
  })

  it('maps authentication and authorization failures to exit 4 with their own advice', () => {
    for (const error of [
      kafkajsError('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed'),
      kafkajsError('KafkaJSProtocolError', 'Not authorized to access topics', { type: 'TOPIC_AUTHORIZATION_FAILED' }),
    ]) {
      const mapped = toEsError(error, base, 'connecting')
      assert.ok(mapped instanceof UnreachableError)
      assert.equal(mapped.code, 'KAFKA_AUTH_FAILED')
      assert.match(mapped.suggestion ?? '', /SASL/)
    }
  })

  it('passes typed errors and unrelated failures through unchanged', () => {
    const typed = new NotFoundError('topic "x" does not exist', { code: 'TOPIC_NOT_FOUND' })
    assert.equal(toEsError(typed, base, 'x'), typed)
    const bug = new TypeError('undefined is not a function')
    assert.equal(toEsError(bug, base, 'x'), bug)
  })

  it('bounds work by a deadline and starts the cleanup without waiting for it', async () => {
    let cleaned = false
    const never = new Promise<never>(() => {})
    await assert.rejects(
      withDeadline(
        never,
        20,
        () => new UnreachableError('late', { code: 'LATE' }),
        () => {
          cleaned = true
          return never // a cleanup that never finishes must not delay the rejection
        },
      ),
      UnreachableError,
    )
    assert.ok(cleaned)
    assert.equal(await withDeadline(Promise.resolve(7), 1000, () => new Error('no')), 7)
  })
})
