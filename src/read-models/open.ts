/** The read model a projection's config describes. */
import type { ReadModelSpec } from '../config/types.js'
import type { ServiceRuntime } from '../service/runtime.js'
import { openHttpReadModel } from './http-read-model.js'
import { openPostgresReadModel } from './postgres-read-model.js'
import type { ReadModel } from './read-model.js'
import { openSqliteReadModel } from './sqlite-read-model.js'
import { openTopicReadModel } from './topic-read-model.js'

export async function openReadModel(spec: ReadModelSpec, runtime: ServiceRuntime): Promise<ReadModel> {
  switch (spec.type) {
    case 'sqlite':
      return openSqliteReadModel(spec)
    case 'postgres':
      return openPostgresReadModel({ ...spec, connectionTimeoutMs: runtime.config.kafka.connectionTimeoutMs })
    case 'http': {
      // Reached now, before any replay work, as databases are.
      const model = openHttpReadModel({ ...spec, timeoutMs: runtime.config.kafka.requestTimeoutMs })
      await model.probe()
      return model
    }
    case 'topic':
      return openTopicReadModel(spec.topic, {
        reader: runtime.reader,
        decode: await runtime.snapshotDecoder(),
      })
  }
}
