/**
 * A kafkajs admin client for one piece of work: connected within the connection timeout (exit 4
 * when the cluster cannot be reached), its failures mapped to es's typed errors, always closed.
 */
import type { KafkaConnection } from '../config/types.js'
import { type ClientOptions, connectWithin, kafkaClientConfig, toEsError } from './connection.js'
import { ConnectionWatch } from './connection-watch.js'
import { importKafkajs } from './kafkajs-internals.js'

export type Admin = import('kafkajs').Admin

export async function withAdmin<T>(
  connection: KafkaConnection,
  action: string,
  work: (admin: Admin) => Promise<T>,
  options: ClientOptions = {},
): Promise<T> {
  const { Kafka } = await importKafkajs()
  const watch = new ConnectionWatch(connection)
  const admin = new Kafka(kafkaClientConfig(connection, { ...options, watch })).admin()
  try {
    await connectWithin(connection, watch, admin.connect(), () => admin.disconnect(), action)
    return await work(admin)
  } catch (error) {
    throw toEsError(error, connection, action)
  } finally {
    await admin.disconnect().catch(() => {})
  }
}
