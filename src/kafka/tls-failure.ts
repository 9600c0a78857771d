/**
 * A failed TLS handshake, in words. Node reports certificate checks as OpenSSL verify codes
 * (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`…), a host-name mismatch as
 * `ERR_TLS_CERT_ALTNAME_INVALID`, and the broker's refusal of our client certificate as an alert
 * (`ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`, "SSL alert number 42") whose raw text spans two lines.
 * None of these can succeed on a retry, so each becomes one UnreachableError (exit 4) at once,
 * with a suggestion naming the setting that fixes it.
 *
 * Pure: no sockets here (src/kafka/connection-watch.ts feeds it).
 */
import type { KafkaConnection } from '../config/types.js'
import { UnreachableError } from '../errors.js'

/** What Node's TLS socket errors carry (`cert` and `host` on host-name mismatches). */
export interface TlsSocketError {
  code?: string
  message?: string
  reason?: string
  host?: string
  cert?: { subjectaltname?: string; subject?: { CN?: string | string[] } }
}

export interface TlsContext {
  /** `host:port` the socket was connecting to. */
  broker: string
  ssl: KafkaConnection['ssl']
  /** The broker certificate's end of validity, when it was seen before the handshake failed. */
  validTo?: string
}

/** OpenSSL verify codes meaning: the broker's certificate chain does not lead to a trusted CA. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
])

/** TLS alerts a broker sends when it does not accept our client certificate (or its absence). */
const CLIENT_CERTIFICATE_ALERTS = new Set([42, 43, 44, 45, 46, 48, 49, 116])

/** True for socket errors of a TLS handshake that no retry can fix. */
export function isTlsFailure(error: TlsSocketError | undefined): boolean {
  const code = error?.code ?? ''
  return (
    UNTRUSTED.has(code) ||
    code === 'CERT_HAS_EXPIRED' ||
    code === 'CERT_NOT_YET_VALID' ||
    code === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
    /^ERR_SSL_/.test(code)
  )
}

/** The one-line error for a TLS handshake failure, or undefined when `error` is not one. */
export function tlsFailure(error: TlsSocketError, context: TlsContext): UnreachableError | undefined {
  if (!isTlsFailure(error)) return undefined
  const code = error.code ?? ''
  const ssl = typeof context.ssl === 'object' ? context.ssl : {}
  const fail = (what: string, suggestion: string, kind: string) =>
    new UnreachableError(`TLS connection to ${context.broker} failed: ${what}`, {
      code: 'KAFKA_TLS_FAILED',
      suggestion,
      where: { broker: context.broker, tls: kind },
    })

  if (UNTRUSTED.has(code)) {
    return fail(
      ssl.ca === undefined
        ? "the broker's certificate is not signed by a CA this system trusts (no ssl.ca is configured)"
        : "the broker's certificate is not signed by the configured CA (ssl.ca)",
      "set ssl.ca to the certificate (PEM) of the CA that signed the broker's certificate",
      'untrusted',
    )
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const checked = ssl.servername ?? error.host ?? context.broker.replace(/:\d+$/, '')
    const names = certificateNames(error.cert)
    const named = names.length ? ` (it names ${names.join(', ')})` : ''
    return fail(
      `the broker's certificate does not name ${checked}${named}`,
      names.length
        ? `connect to a name it has, or set ssl.servername: ${names[0]} to check that name instead (the CA is still verified)`
        : 'connect to a name the certificate has, or set ssl.servername to the name it has (the CA is still verified)',
      'hostname',
    )
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return fail(
      `the broker's certificate has expired${context.validTo ? ` (valid until ${context.validTo})` : ''}`,
      "the broker needs a renewed certificate; check this machine's clock too",
      'expired',
    )
  }
  if (code === 'CERT_NOT_YET_VALID') {
    return fail(
      "the broker's certificate is not valid yet",
      "check this machine's clock and the broker's certificate",
      'not-yet-valid',
    )
  }
  const alert = alertOf(error)
  if (alert && CLIENT_CERTIFICATE_ALERTS.has(alert.number)) {
    const configured = ssl.cert !== undefined
    return fail(
      configured
        ? `the broker rejected our client certificate (TLS alert ${alert.number}: ${alert.name})`
        : `the broker requires a client certificate and none is configured (TLS alert ${alert.number}: ${alert.name})`,
      configured
        ? 'set ssl.cert and ssl.key to a certificate and key signed by a CA the broker trusts'
        : 'set ssl.cert and ssl.key to a client certificate and key signed by a CA the broker trusts',
      'client-certificate',
    )
  }
  if (alert) {
    return fail(
      `the broker ended the TLS handshake (TLS alert ${alert.number}: ${alert.name})`,
      "check the listener's TLS settings (protocol versions, ciphers) against this client's",
      'alert',
    )
  }
  return fail(
    (error.reason ?? firstLine(error.message ?? code)).replace(/^[0-9A-F]+:error:[0-9A-F]+:/, ''),
    'check that this address is a TLS listener and its TLS settings',
    'handshake',
  )
}

/** The certificate's DNS names and IP addresses (`DNS:a, IP Address:1.2.3.4`), else its common name. */
export function certificateNames(cert: TlsSocketError['cert']): string[] {
  const names = (cert?.subjectaltname ?? '')
    .split(/,\s*/)
    .map((entry) => entry.replace(/^(DNS|IP Address|IP):/, '').trim())
    .filter(Boolean)
  if (names.length > 0) return names
  const cn = cert?.subject?.CN
  return cn === undefined ? [] : ([] as string[]).concat(cn)
}

/** `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE` + "SSL alert number 42" → {42, "bad certificate"}. */
function alertOf(error: TlsSocketError): { number: number; name: string } | undefined {
  const match = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(\w+)$/.exec(error.code ?? '')
  if (!match) return undefined
  const number = Number(/SSL alert number (\d+)/.exec(error.message ?? '')?.[1] ?? Number.NaN)
  const name = match[1].toLowerCase().replace(/_/g, ' ')
  return { number: Number.isNaN(number) ? (ALERT_NUMBERS[match[1]] ?? 0) : number, name }
}

const ALERT_NUMBERS: Record<string, number> = {
  HANDSHAKE_FAILURE: 40,
  BAD_CERTIFICATE: 42,
  UNSUPPORTED_CERTIFICATE: 43,
  CERTIFICATE_REVOKED: 44,
  CERTIFICATE_EXPIRED: 45,
  CERTIFICATE_UNKNOWN: 46,
  UNKNOWN_CA: 48,
  ACCESS_DENIED: 49,
  PROTOCOL_VERSION: 70,
  CERTIFICATE_REQUIRED: 116,
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}
