/**
 * From a resolved `KafkaConnection` to kafkajs client options, and from kafkajs failures to the
 * typed errors of src/errors.ts. Shared by the log reader and the producer. Nothing here loads
 * kafkajs (only its types), so commands that never talk to Kafka start fast.
 *
 * Invariants:
 * - kafkajs never writes to stdout/stderr: its log lines go to the `debug` callback or nowhere
 *   (also when KAFKAJS_LOG_LEVEL is set, since the log creator is ours).
 * - An unreachable broker fails within `connectionTimeoutMs` with UnreachableError (exit 4):
 *   kafkajs's own retries can take longer, so connecting runs under `withDeadline`.
 */
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import type { KafkaConfig, logCreator, logLevel, SASLOptions } from 'kafkajs'
import type { KafkaConnection } from '../config/types.js'
import { ConfigError, EsError, UnreachableError } from '../errors.js'

export interface ClientOptions {
  /** Receives kafkajs's log lines (debug level and up), e.g. for `--verbose`; none when absent. */
  debug?: (line: string) => void
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

/** `ssl` of the config: `true`, or CA/cert/key given as PEM text or as a path to a PEM file. */
function tlsOptions(ssl: KafkaConnection['ssl']): ConnectionOptions | boolean | undefined {
  if (ssl === undefined || typeof ssl === 'boolean') return ssl
  const options: ConnectionOptions = {}
  if (ssl.ca !== undefined) options.ca = pem(ssl.ca, 'ssl.ca')
  if (ssl.cert !== undefined) options.cert = pem(ssl.cert, 'ssl.cert')
  if (ssl.key !== undefined) options.key = pem(ssl.key, 'ssl.key')
  if (ssl.rejectUnauthorized !== undefined) options.rejectUnauthorized = ssl.rejectUnauthorized
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
export function toEsError(error: unknown, connection: Pick<KafkaConnection, 'brokers'>, action: string): unknown {
  if (error instanceof EsError) return error
  if (!isConnectionFailure(error)) return error
  const brokers = connection.brokers.join(',')
  const detail = rootMessage(error)
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
 * Resolves like `work`, or rejects with `onTimeout()` after `ms`. On timeout `cleanup` starts in the
 * background and is not awaited: kafkajs's disconnect waits for pending requests, which is the
 * very thing that did not answer.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  cleanup?: () => Promise<unknown> | undefined,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(onTimeout())
      Promise.resolve()
        .then(cleanup)
        .catch(() => {})
    }, ms)
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
    work.catch(() => {}) // a late failure of abandoned work must not surface as unhandled
  }
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
