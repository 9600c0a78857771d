import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { codecFlags, partitionerFlag, topicFlag } from '../src/cli/flags.js'
import { ExitCode } from '../src/errors.js'
import {
  renderSnapshots,
  SNAPSHOT_FORMATS,
  type SnapshotFormat,
  TABLE_PAGE,
  warnUndecodable,
  writeSnapshotTable,
} from '../src/render/snapshots.js'
import { resolveTopics } from '../src/service/resolve.js'
import { openRuntime } from '../src/service/runtime.js'
import { openSnapshotTable, readSnapshots, type SnapshotResult } from '../src/snapshots/latest.js'

export default class Snapshots extends EsCommand<SnapshotResult | undefined> {
  static override summary = 'Show a snapshots stream as a table of the latest value per key, tombstones applied.'
  static override description =
    `Reads every partition of the compacted snapshots stream (or --topic) from its log start to the end fixed at start, keeping the latest record per key as raw bytes in bounded memory (spilled to temporary files past 16 MB), then decodes it in key order. The table shows the first ${TABLE_PAGE.toLocaleString('en-US')} keys (--limit for more) and says how many it left out; -o ndjson (one key per line) and --json stream every key. With an aggregate id, shows that key only (exit 6 when it has no snapshot or was deleted); --history shows every version of it still in the log, tombstones included. A value that cannot be decoded is shown as undecodable with its error, and the command exits 5.`
  static override examples = [
    '<%= config.bin %> snapshots',
    '<%= config.bin %> snapshots --limit 5000',
    '<%= config.bin %> snapshots -o ndjson | jq -c .value',
    '<%= config.bin %> snapshots acc-42',
    '<%= config.bin %> snapshots acc-42 --history',
    '<%= config.bin %> snapshots --topic bank-accounts-changelog --json',
  ]
  static override enableJsonFlag = true
  static override args = { aggregateId: Args.string({ description: 'Only this key.' }) }
  static override flags = {
    ...codecFlags,
    history: Flags.boolean({ summary: 'Every version of the key still in the log (tombstones included).' }),
    topic: topicFlag,
    format: Flags.custom<SnapshotFormat>({
      char: 'o',
      summary: 'table (a page of keys), or ndjson (every key, one JSON object per line).',
      options: SNAPSHOT_FORMATS,
      default: 'table',
      parse: async (input: string) => input as SnapshotFormat,
    })(),
    partitioner: partitionerFlag,
    limit: Flags.integer({
      summary: `At most this many keys shown (default: ${TABLE_PAGE} in the table, all otherwise).`,
      min: 1,
    }),
  }

  async run(): Promise<SnapshotResult | undefined> {
    const { args, flags } = await this.parse(Snapshots)
    const runtime = openRuntime(await this.settings(), this.serviceFlag, { debug: (line) => this.out.debug(line) })
    try {
      const topics = resolveTopics(runtime.service, undefined, flags.topic, 'snapshots')
      const decode = await runtime.snapshotDecoder()
      if (args.aggregateId === undefined) {
        const table = await openSnapshotTable({ reader: runtime.reader, topics, decode })
        try {
          const format = this.jsonEnabled() ? 'json' : flags.format
          const totals = await writeSnapshotTable(table, this.out, { format, limit: flags.limit })
          if (totals.undecodable > 0) process.exitCode = ExitCode.invalidData
        } finally {
          table.close()
        }
        return undefined // written as it was read, also under --json
      }
      const partitioner = flags.partitioner ?? runtime.service.partitioner
      const keyBytes = partitioner === 'none' ? null : await runtime.keyBytes(args.aggregateId)
      const result = await readSnapshots({
        reader: runtime.reader,
        topics,
        decode,
        key: args.aggregateId,
        history: flags.history,
        partitioned: keyBytes ? { partitioner, keyBytes } : undefined,
      })
      if (!this.jsonEnabled()) this.display(result, flags.history)
      warnUndecodable(
        this.out,
        result.undecodable,
        result.entries.filter((e) => e.error).map((e) => `${e.topic}/${e.partition}@${e.offset}: ${e.error}`),
      )
      if (result.undecodable > 0) process.exitCode = ExitCode.invalidData
      return result
    } finally {
      await runtime.close()
    }
  }

  private display(result: SnapshotResult, history: boolean): void {
    const [entry] = result.entries
    if (history) this.out.data(renderSnapshots(this.out.paint, result.entries))
    else if (entry.error !== undefined) this.out.data(entry.raw ?? '')
    else this.out.data(JSON.stringify(entry.value, null, 2))
    this.out.info(
      `${result.entries.length} ${history ? 'versions' : 'snapshot'} from ${result.records} records in ${result.topics.join(', ')}${result.undecodable ? `; ${result.undecodable} undecodable` : ''}`,
    )
  }
}
