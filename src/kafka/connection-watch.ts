/**
 * The sockets of one Kafka client, watched: kafkajs retries every connection error until its
 * retries run out, which for a failed TLS handshake (it cannot succeed on a retry) or a port where
 * nothing listens only delays the answer by the whole connection timeout. The watch's socket
 * factory (the same sockets kafkajs's own would make) reports each socket error here, and
 * `failure` rejects at once with the typed error when:
 * - a TLS handshake failed (certificate untrusted, wrong host, expired, our client certificate
 *   rejected): always, also after the client has connected once;
 * - before the client has connected once, every broker refused the connection and there were
 *   REFUSALS refusals in a row (kafkajs's first retries come 100, 200, 400 ms apart: about a
 *   second in all). After it has connected once, a refusal is an outage (a broker restarting) and
 *   is left to the caller's retries.
 * A connection that is not answered at all is not seen here: it still waits for the timeout.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net'
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls'
import type { KafkaConnection } from '../config/types.js'
import { UnreachableError } from '../errors.js'
import { type TlsSocketError, tlsFailure } from './tls-failure.js'

/** Refusals in a row, every broker included, after which nothing is taken to listen there. */
const REFUSALS = 4
const KEEP_ALIVE_DELAY = 60_000

interface SocketRequest {
  host: string
  port: number
  ssl?: ConnectionOptions | boolean
  onConnect: () => void
}

export class ConnectionWatch {
  /** Rejects with the first failure no retry can fix; never resolves. */
  readonly failure: Promise<never>
  /** That failure, once it happened. */
  fatal?: UnreachableError
  private rejectFailure!: (error: UnreachableError) => void
  private established = false
  private refusals = 0
  private readonly refusedBrokers = new Set<string>()

  constructor(private readonly connection: Pick<KafkaConnection, 'brokers' | 'ssl'>) {
    this.failure = new Promise<never>((_, reject) => {
      this.rejectFailure = reject
    })
    this.failure.catch(() => {}) // observed through `fatal` by callers that do not race it
  }

  /** A kafkajs socket factory whose sockets report their errors to this watch. */
  readonly socketFactory = ({ host, port, ssl, onConnect }: SocketRequest): Socket => {
    const broker = `${host}:${port}`
    let socket: Socket
    if (ssl) {
      const options = Object.assign({ host, port }, isIP(host) ? {} : { servername: host }, ssl === true ? {} : ssl)
      const tls: TLSSocket = tlsConnect(options, onConnect)
      let validTo: string | undefined
      // Runs before Node's own check of the handshake, which destroys the socket (and with it
      // the peer certificate) when verification fails: keep the certificate's end of validity.
      tls.prependOnceListener('secure', () => {
        validTo = tls.getPeerCertificate()?.valid_to
      })
      tls.on('error', (error) => this.observe(error, broker, validTo))
      socket = tls
    } else {
      socket = netConnect({ host, port }, onConnect)
      socket.on('error', (error) => this.observe(error, broker))
    }
    socket.on('connect', () => {
      this.refusals = 0
    })
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY)
    return socket
  }

  /** The client has connected once: refusals from now on are an outage, not a wrong address. */
  markEstablished(): void {
    this.established = true
  }

  private observe(error: Error & TlsSocketError, broker: string, validTo?: string): void {
    if (this.fatal) return
    const tls = tlsFailure(error, { broker, ssl: this.connection.ssl, ...(validTo ? { validTo } : {}) })
    if (tls) {
      this.fail(tls)
      return
    }
    if (error.code !== 'ECONNREFUSED' || this.established) return
    this.refusals++
    this.refusedBrokers.add(broker)
    if (this.refusals < REFUSALS || !this.connection.brokers.every((b) => this.refusedBrokers.has(b))) return
    const brokers = this.connection.brokers.join(',')
    this.fail(
      new UnreachableError(
        `Kafka at ${brokers} refused the connection: nothing listens on ${this.connection.brokers.length === 1 ? 'that port' : 'those ports'}`,
        {
          code: 'KAFKA_UNREACHABLE',
          suggestion:
            'check that the broker runs and --brokers / ES_BROKERS / the config point to it (es local start starts one)',
          where: { brokers },
        },
      ),
    )
  }

  private fail(error: UnreachableError): void {
    this.fatal = error
    this.rejectFailure(error)
  }
}
