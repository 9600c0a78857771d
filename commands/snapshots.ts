import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { codecFlags, partitionerFlag, topicFlag } from '../src/cli/flags.js'
import { ExitCode } from '../src/errors.js'
import {
  SNAPSHOT_FORMATS,
  type SnapshotFormat,
  showKeySnapshots,
  TABLE_PAGE,
  writeSnapshotTable,
} from '../src/render/snapshots.js'
import type { SnapshotResult } from '../src/snapshots/latest.js'
import { keySnapshots, withSnapshotTable } from '../src/snapshots/snapshots-service.js'

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
    const request = {
      config: await this.settings(),
      service: this.serviceFlag,
      topics: flags.topic,
      runtime: { debug: (line: string) => this.out.debug(line) },
    }
    if (args.aggregateId === undefined) {
      const format = this.jsonEnabled() ? 'json' : flags.format
      const totals = await withSnapshotTable(request, (table) =>
        writeSnapshotTable(table, this.out, { format, limit: flags.limit }),
      )
      // Written as it was read, also under --json: there is no result left to return.
      if (totals.undecodable > 0) process.exitCode = ExitCode.invalidData
      return undefined
    }
    const result = await keySnapshots({
      ...request,
      key: args.aggregateId,
      history: flags.history,
      partitioner: flags.partitioner,
    })
    showKeySnapshots(this.out, result, { history: flags.history, json: this.jsonEnabled() })
    if (result.undecodable > 0) process.exitCode = ExitCode.invalidData
    return result
  }
}
