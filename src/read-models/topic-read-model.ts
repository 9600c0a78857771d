/**
 * A read model kept as a compacted topic (a `*.snapshots` stream, a Kafka Streams changelog): the
 * latest value per key, tombstones applied, read to the end fixed at open (src/snapshots/latest.ts).
 */

import type { LogReader } from '../kafka/log-reader.js'
import { readSnapshots, type SnapshotDecoder } from '../snapshots/latest.js'
import { type ReadModel, scanInMemory } from './read-model.js'
import { type Row, undecodableRow } from './row.js'

export interface TopicReadModelSource {
  reader: Pick<LogReader, 'resolveRanges' | 'read'>
  decode: SnapshotDecoder
}

export function openTopicReadModel(topic: string, source: TopicReadModelSource): ReadModel {
  let latest: Promise<Map<string, Row>> | undefined
  const load = () => {
    latest ??= readSnapshots({ reader: source.reader, topics: [topic], decode: source.decode }).then(
      (result) =>
        new Map(
          // A record without a key is no row of a read model.
          result.entries.flatMap((entry) =>
            entry.key === null
              ? []
              : [
                  [
                    entry.key,
                    entry.error !== undefined
                      ? undecodableRow(entry.error, entry.raw)
                      : entry.value !== null && typeof entry.value === 'object' && !Array.isArray(entry.value)
                        ? (entry.value as Row)
                        : { value: entry.value },
                  ] as const,
                ],
          ),
        ),
    )
    return latest
  }
  return {
    label: `topic ${topic}`,
    scan: async () => scanInMemory(await load()),
    async get(ids) {
      const all = await load()
      const found = new Map<string, Row>()
      for (const id of ids) {
        const row = all.get(id)
        if (row !== undefined) found.set(id, row)
      }
      return found
    },
    async close() {},
  }
}
