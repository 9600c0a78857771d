/**
 * `es snapshots` over a service: its runtime (reader, key and value codecs without the envelope)
 * and the snapshots stream's topics (or --topic), then the whole table or one key's snapshots.
 */
import type { ResolvedConfig } from '../config/types.js'
import type { PartitionerName } from '../kafka/partitioner.js'
import { resolveTopics } from '../service/resolve.js'
import { openRuntime, type RuntimeOptions, type ServiceRuntime } from '../service/runtime.js'
import {
  openSnapshotTable,
  readSnapshots,
  type SnapshotDecoder,
  type SnapshotResult,
  type SnapshotTable,
} from './latest.js'

export interface SnapshotsServiceRequest {
  config: ResolvedConfig
  service?: string
  /** --topic: topics instead of the snapshots stream. */
  topics?: string[]
  runtime?: RuntimeOptions
}

/** The service's runtime, the topics to read and their decoder, for `work`; closed after. */
async function withSnapshotsRuntime<T>(
  request: SnapshotsServiceRequest,
  work: (opened: { runtime: ServiceRuntime; topics: string[]; decode: SnapshotDecoder }) => Promise<T>,
): Promise<T> {
  const runtime = openRuntime(request.config, request.service, request.runtime)
  try {
    const topics = resolveTopics(runtime.service, undefined, request.topics, 'snapshots')
    return await work({ runtime, topics, decode: await runtime.snapshotDecoder() })
  } finally {
    await runtime.close()
  }
}

/** The whole table, handed to `write` while open (it is streamed), closed after. */
export function withSnapshotTable<T>(
  request: SnapshotsServiceRequest,
  write: (table: SnapshotTable) => Promise<T>,
): Promise<T> {
  return withSnapshotsRuntime(request, async ({ runtime, topics, decode }) => {
    const table = await openSnapshotTable({ reader: runtime.reader, topics, decode })
    try {
      return await write(table)
    } finally {
      table.close()
    }
  })
}

/**
 * One key's latest snapshot, or with `history` every version still in the log; only the partition
 * the key hashes to is read, unless the partitioner (the service's by default) is `none` or the key
 * codec cannot encode the key.
 */
export function keySnapshots(
  request: SnapshotsServiceRequest & { key: string; history: boolean; partitioner?: PartitionerName },
): Promise<SnapshotResult> {
  return withSnapshotsRuntime(request, async ({ runtime, topics, decode }) => {
    const partitioner = request.partitioner ?? runtime.service.partitioner
    const keyBytes = partitioner === 'none' ? null : await runtime.keyBytes(request.key)
    return readSnapshots({
      reader: runtime.reader,
      topics,
      decode,
      key: request.key,
      history: request.history,
      partitioned: keyBytes ? { partitioner, keyBytes } : undefined,
    })
  })
}
