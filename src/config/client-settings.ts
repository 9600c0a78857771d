/**
 * `-X key=value`: the librdkafka client properties kcat users pass, mapped onto es's connection
 * settings (the same keys as the config file, so they are validated by the same schema). Only the
 * properties es has a meaning for are accepted; anything else is a usage error listing them.
 */
import { resolve } from 'node:path'
import { nearMatches, UsageError } from '../errors.js'
import type { ConfigPath } from './interpolate.js'

interface Mapping {
  path: ConfigPath
  value: (text: string, cwd: string) => unknown
}

const text = (value: string) => value
const file = (value: string, cwd: string) => (value.includes('-----BEGIN') ? value : resolve(cwd, value))
const milliseconds = (value: string) => (/^\d+$/.test(value) ? Number(value) : value)
const flag = (value: string) => (value === 'true' ? true : value === 'false' ? false : value)

const SETTINGS: Record<string, Mapping> = {
  'bootstrap.servers': { path: ['brokers'], value: text },
  'metadata.broker.list': { path: ['brokers'], value: text },
  'client.id': { path: ['clientId'], value: text },
  'security.protocol': {
    path: ['ssl'],
    value: (v) => (/^(sasl_)?ssl$/i.test(v) ? true : /^(sasl_)?plaintext$/i.test(v) ? false : v),
  },
  'sasl.mechanism': { path: ['sasl', 'mechanism'], value: (v) => v.toLowerCase() },
  'sasl.mechanisms': { path: ['sasl', 'mechanism'], value: (v) => v.toLowerCase() },
  'sasl.username': { path: ['sasl', 'username'], value: text },
  'sasl.password': { path: ['sasl', 'password'], value: text },
  'ssl.ca.location': { path: ['ssl', 'ca'], value: file },
  'ssl.certificate.location': { path: ['ssl', 'cert'], value: file },
  'ssl.key.location': { path: ['ssl', 'key'], value: file },
  'ssl.key.password': { path: ['ssl', 'passphrase'], value: text },
  'enable.ssl.certificate.verification': { path: ['ssl', 'rejectUnauthorized'], value: flag },
  'ssl.endpoint.identification.algorithm': {
    path: ['ssl', 'checkHostname'],
    value: (v) => (v.toLowerCase() === 'none' ? false : v.toLowerCase() === 'https' ? true : v),
  },
  'socket.connection.setup.timeout.ms': { path: ['connectionTimeout'], value: milliseconds },
  'request.timeout.ms': { path: ['requestTimeout'], value: milliseconds },
  'socket.timeout.ms': { path: ['requestTimeout'], value: milliseconds },
}

/** The client properties `-X` accepts. */
export const CLIENT_SETTINGS = Object.keys(SETTINGS)

export interface ClientSetting {
  path: ConfigPath
  value: unknown
  /** `-X key`, for messages. */
  flag: string
}

/** Parses each `key=value` of `-X` into the config setting it stands for. */
export function parseClientSettings(pairs: string[], cwd: string): ClientSetting[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=')
    const key = eq > 0 ? pair.slice(0, eq).trim() : pair.trim()
    if (eq <= 0) {
      throw new UsageError(`-X "${pair}" is not key=value`, {
        code: 'USAGE',
        suggestion: `e.g. -X security.protocol=SASL_SSL; accepted keys: ${CLIENT_SETTINGS.join(', ')}`,
      })
    }
    const mapping = SETTINGS[key]
    if (!mapping) {
      const near = nearMatches(key, CLIENT_SETTINGS, 1)
      throw new UsageError(`-X ${key} is not a client setting es knows`, {
        code: 'USAGE',
        suggestion: `${near.length ? `did you mean ${near[0]}? ` : ''}accepted keys: ${CLIENT_SETTINGS.join(', ')}; anything else goes in the config file (see README)`,
      })
    }
    return { path: mapping.path, value: mapping.value(pair.slice(eq + 1).trim(), cwd), flag: `-X ${key}` }
  })
}
