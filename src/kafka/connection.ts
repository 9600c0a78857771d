/**
 * From a resolved `KafkaConnection` to kafkajs client options, and from kafkajs failures to the
 * typed errors of src/errors.ts. Shared by the log reader and the producer. Nothing here loads
 * kafkajs (only its types), so commands that never talk to Kafka start fast.
 *
 * Invariants:
 * - kafkajs never writes to stdout/stderr: its log lines go to the `debug` callback or nowhere
 *   (also when KAFKAJS_LOG_LEVEL is set, since the log creator is ours).
 * - An unreachable broker fails within `connectionTimeoutMs` with UnreachableError (exit 4):
 *   kafkajs's own retries can take longer, so connecting runs under `withDeadline`. A failure no
 *   retry can fix (a TLS handshake, nothing listening) fails at once (`connectWithin`, with the
 *   sockets of a ConnectionWatch).
 * - TLS verifies the broker's certificate chain and host name unless the config says otherwise.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { type ConnectionOptions, checkServerIdentity } from 'node:tls'
import type { KafkaConfig, logCreator, logLevel, SASLOptions } from 'kafkajs'
import type { KafkaConnection } from '../config/types.js'
import { ConfigError, EsError, UnreachableError } from '../errors.js'
import { runningLocalBrokers } from '../local/broker.js'
import type { ConnectionWatch } from './connection-watch.js'
import { isTlsFailure, tlsFailure } from './tls-failure.js'

export interface ClientOptions {
  /** Receives kafkajs's log lines (debug level and up), e.g. for `--verbose`; none when absent. */
  debug?: (line: string) => void
  /** Watches the client's sockets (its socket factory is used), for failing fast. */
  watch?: ConnectionWatch
}

const LOG_NOTHING = 0 as logLevel
const LOG_DEBUG = 5 as logLevel

export function kafkaClientConfig(connection: KafkaConnection, options: ClientOptions = {}): KafkaConfig {
  const config: KafkaConfig = {
    brokers: connection.brokers,
    clientId: connection.clientId,
    connectionTimeout: connection.connectionTimeoutMs,
    authenticationTimeout: connection.connectionTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    enforceRequestTimeout: true,
    retry: retryWithin(connection.connectionTimeoutMs),
    logLevel: options.debug ? LOG_DEBUG : LOG_NOTHING,
    logCreator: kafkaLogCreator(options.debug),
  }
  const ssl = tlsOptions(connection.ssl)
  if (ssl !== undefined) config.ssl = ssl
  if (options.watch) config.socketFactory = options.watch.socketFactory as unknown as KafkaConfig['socketFactory']
  if (connection.sasl) {
    const { mechanism, username, password } = connection.sasl
    config.sasl = { mechanism, username, password } as SASLOptions
  }
  return config
}

/**
 * kafkajs retry options whose back-off (100 ms doubling, at most 2 s apart) adds up to about `ms`:
 * withDeadline bounds a failing connect, and kafkajs then stops retrying soon after instead of
 * keeping a socket and timers alive for long in the background.
 */
export function retryWithin(ms: number): { retries: number; initialRetryTime: number; maxRetryTime: number } {
  const initialRetryTime = 100
  const maxRetryTime = 2000
  let retries = 0
  for (let total = 0, wait = initialRetryTime; total + wait <= ms; wait = Math.min(wait * 2, maxRetryTime)) {
    total += wait
    retries++
  }
  return { retries: Math.max(retries, 1), initialRetryTime, maxRetryTime }
}

/** Routes kafkajs log entries to `debug` as one line each, secrets never included (kafkajs logs none). */
export function kafkaLogCreator(debug?: (line: string) => void): logCreator {
  return () =>
    ({ namespace, label, log }) => {
      if (!debug) return
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = log
      const details = Object.keys(extra).length > 0 ? ` ${safeJson(extra)}` : ''
      debug(`kafkajs ${label} ${namespace}: ${message}${details}`)
    }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch {
    return '[unserialisable]'
  }
}

/**
 * `ssl` of the config: `true`, or CA/cert/key given as PEM text or as a path to a PEM file.
 * `servername` is the name checked in the broker's certificate (and sent as SNI unless it is an
 * IP address); `checkHostname: false` accepts any name but still verifies the chain.
 */
function tlsOptions(ssl: KafkaConnection['ssl']): ConnectionOptions | boolean | undefined {
  if (ssl === undefined || typeof ssl === 'boolean') return ssl
  const options: ConnectionOptions = {}
  if (ssl.ca !== undefined) options.ca = pem(ssl.ca, 'ssl.ca')
  if (ssl.cert !== undefined) options.cert = pem(ssl.cert, 'ssl.cert')
  if (ssl.key !== undefined) options.key = pem(ssl.key, 'ssl.key')
  if (ssl.passphrase !== undefined) options.passphrase = ssl.passphrase
  if (ssl.rejectUnauthorized !== undefined) options.rejectUnauthorized = ssl.rejectUnauthorized
  const servername = ssl.servername
  if (servername !== undefined) {
    if (!isIP(servername)) options.servername = servername
    options.checkServerIdentity = (_host, cert) => checkServerIdentity(servername, cert)
  }
  if (ssl.checkHostname === false) options.checkServerIdentity = () => undefined
  return options
}

function pem(value: string, field: string): string {
  if (value.includes('-----BEGIN')) return value
  try {
    return readFileSync(value, 'utf8')
  } catch (error) {
    throw new ConfigError(`${field}: cannot read ${value}: ${(error as Error).message}`, {
      code: 'CONFIG_INVALID',
      where: { field, file: value },
      cause: error,
    })
  }
}

const unreachableNames = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
  'KafkaJSMetadataNotLoaded',
])

const authenticationTypes = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
])

interface KafkaJsErrorShape {
  name?: string
  type?: string
  message?: string
  cause?: unknown
  originalError?: unknown
}

/** True for kafkajs errors that mean: the cluster refused our credentials or access. */
export function isAuthenticationFailure(error: unknown): boolean {
  for (let e = error as KafkaJsErrorShape | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.name === 'KafkaJSSASLAuthenticationError' || (e.type && authenticationTypes.has(e.type))) return true
    e = (e.cause ?? e.originalError) as KafkaJsErrorShape | undefined
  }
  return false
}

/** True for kafkajs errors that mean: the cluster cannot be reached or refused us. */
export function isConnectionFailure(error: unknown): boolean {
  for (let e = error as KafkaJsErrorShape | undefined, depth = 0; e && depth < 5; depth++) {
    if ((e.name && unreachableNames.has(e.name)) || e.name === 'KafkaJSSASLAuthenticationError') return true
    if (e.type && authenticationTypes.has(e.type)) return true
    if (
      'code' in e &&
      ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'].includes(String(e.code))
    )
      return true
    e = (e.cause ?? e.originalError) as KafkaJsErrorShape | undefined
  }
  return false
}

/**
 * The typed error for a kafkajs failure while doing `action` (e.g. "reading bank.events"):
 * connection, timeout and authentication failures become UnreachableError (exit 4); typed errors
 * pass through; anything else is returned unchanged (a bug or an unexpected broker answer).
 */
export function toEsError(
  error: unknown,
  connection: Pick<KafkaConnection, 'brokers'> & Partial<Pick<KafkaConnection, 'ssl'>>,
  action: string,
): unknown {
  if (error instanceof EsError) return error
  if (hasName(error, 'KafkaJSServerDoesNotSupportApiKey')) return notBrokerListener(connection.brokers, error)
  if (!isConnectionFailure(error)) return error
  const brokers = connection.brokers.join(',')
  const detail = rootMessage(error)
  const tls = tlsCode(error)
  if (tls !== undefined) {
    const failure = tlsFailure({ code: tls, message: detail }, { broker: brokers, ssl: connection.ssl })
    if (failure) return failure
  }
  const authentication = /SASL|authenticat|authoriz/i.test(`${detail} ${(error as KafkaJsErrorShape).type ?? ''}`)
  return new UnreachableError(
    authentication
      ? `Kafka at ${brokers} refused access while ${action}: ${detail}`
      : `Kafka at ${brokers} is unreachable while ${action}: ${detail}`,
    {
      code: authentication ? 'KAFKA_AUTH_FAILED' : 'KAFKA_UNREACHABLE',
      suggestion: authentication
        ? 'check the SASL mechanism, user name and password (and ACLs) of the config'
        : 'check that the broker runs and --brokers / ES_BROKERS / the config point to it (es local start starts one)',
      where: { brokers },
      cause: error,
    },
  )
}

function hasName(error: unknown, name: string): boolean {
  for (let e = error as KafkaJsErrorShape | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.name === name) return true
    e = (e.cause ?? e.originalError) as KafkaJsErrorShape | undefined
  }
  return false
}

/** The TLS error code (kafkajs keeps the socket error's code on its connection errors), if any. */
function tlsCode(error: unknown): string | undefined {
  for (let e = error as (KafkaJsErrorShape & { code?: string }) | undefined, depth = 0; e && depth < 5; depth++) {
    if (isTlsFailure({ code: e.code })) return e.code
    e = (e.cause ?? e.originalError) as KafkaJsErrorShape | undefined
  }
  return undefined
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/

/**
 * The broker answered ApiVersions without the APIs every broker has (Metadata): a listener of
 * another kind, typically the KRaft controller's, one port away from the broker's.
 */
function notBrokerListener(brokers: string[], cause: unknown): UnreachableError {
  const list = brokers.join(',')
  const loopback = brokers.filter((b) => LOOPBACK.test(b.replace(/:\d+$/, '')))
  const local = loopback.length > 0 ? runningLocalBrokers() : []
  const ports = new Set(loopback.map((b) => Number(b.replace(/^.*:/, ''))))
  const matching = local.filter((l) => ports.has(l.controllerPort))
  const hint = (matching.length > 0 ? matching : local).map((l) => `127.0.0.1:${l.port}`)
  return new UnreachableError(
    `${list} ${brokers.length > 1 ? 'includes an address that is' : 'is'} not a broker listener${hint.length ? ` (the local broker is at ${hint.join(', ')})` : ''}`,
    {
      code: 'KAFKA_NOT_A_BROKER',
      suggestion:
        'it answers Kafka requests but not those of a broker (a KRaft controller listener?): point --brokers / ES_BROKERS / the config at a broker listener',
      where: { brokers: list },
      cause,
    },
  )
}

function rootMessage(error: unknown): string {
  let e = error as KafkaJsErrorShape | undefined
  let message = e?.message ?? String(error)
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.message) message = e.message
    e = (e.cause ?? e.originalError) as KafkaJsErrorShape | undefined
  }
  return message
}

/**
 * Resolves like `work`, or rejects with `onTimeout()` after `ms`, or as soon as `abort` rejects.
 * When it gives up on `work`, `cleanup` starts in the background and is not awaited: kafkajs's
 * disconnect waits for pending requests, which is the very thing that did not answer.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  cleanup?: () => Promise<unknown> | undefined,
  abort?: Promise<never>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let settled = false
  work.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
  })
  try {
    return await Promise.race(abort ? [work, deadline, abort] : [work, deadline])
  } catch (error) {
    if (!settled)
      Promise.resolve()
        .then(cleanup)
        .catch(() => {})
    throw error
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Connects a kafkajs client (`connect`) within the connection timeout, failing at once on what
 * the watch saw that no retry fixes; afterwards refusals count as an outage. Failures are typed.
 */
export async function connectWithin(
  connection: KafkaConnection,
  watch: ConnectionWatch,
  connect: Promise<unknown>,
  disconnect: () => Promise<unknown>,
  action = 'connecting',
): Promise<void> {
  try {
    await withDeadline(
      connect,
      connection.connectionTimeoutMs,
      () => connectTimeout(connection),
      disconnect,
      watch.failure,
    )
  } catch (error) {
    throw toEsError(watch.fatal ?? error, connection, action)
  }
  watch.markEstablished()
}

/** The UnreachableError for a connect that did not finish in time. */
export function connectTimeout(connection: Pick<KafkaConnection, 'brokers' | 'connectionTimeoutMs'>): UnreachableError {
  const brokers = connection.brokers.join(',')
  return new UnreachableError(`Kafka at ${brokers} did not answer within ${connection.connectionTimeoutMs} ms`, {
    code: 'KAFKA_UNREACHABLE',
    suggestion:
      'check that the broker runs and --brokers / ES_BROKERS / the config point to it; raise connectionTimeout in the config for slow networks',
    where: { brokers },
  })
}
