import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { codecFlags, topicFlag } from '../src/cli/flags.js'
import { renderTable } from '../src/render/table.js'
import { resolveTopics } from '../src/service/resolve.js'
import { openRuntime } from '../src/service/runtime.js'
import { readSnapshots, type SnapshotResult } from '../src/snapshots/latest.js'

export default class Snapshots extends EsCommand<SnapshotResult> {
  static override summary = 'Show a snapshots stream as a table of the latest value per key, tombstones applied.'
  static override description =
    'Reads every partition of the compacted snapshots stream (or --topic) from its log start to the end fixed at start. With an aggregate id, shows that key only (exit 6 when it has no snapshot or was deleted); --history shows every version of it still in the log, tombstones included.'
  static override examples = [
    '<%= config.bin %> snapshots',
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
  }

  async run(): Promise<SnapshotResult> {
    const { args, flags } = await this.parse(Snapshots)
    const runtime = openRuntime(await this.settings(), this.serviceFlag, { debug: (line) => this.out.debug(line) })
    try {
      const topics = resolveTopics(runtime.service, undefined, flags.topic, 'snapshots')
      const result = await readSnapshots({
        reader: runtime.reader,
        topics,
        decode: await runtime.snapshotDecoder(),
        key: args.aggregateId,
        history: flags.history,
      })
      if (!this.jsonEnabled()) this.display(result, args.aggregateId !== undefined && !flags.history, flags.history)
      return result
    } finally {
      await runtime.close()
    }
  }

  private display(result: SnapshotResult, single: boolean, history: boolean): void {
    const { paint } = this.out
    if (single) {
      this.out.data(JSON.stringify(result.entries[0].value, null, 2))
    } else if (result.entries.length > 0) {
      const rows = result.entries
      this.out.data(
        renderTable({
          paint,
          leading: [{ title: 'key', value: (i) => rows[i].key }],
          values: rows.map((e) => (e.value === null ? paint.red('(tombstone)') : e.value)),
          trailing: [
            { title: 'at', value: (i) => `${rows[i].partition}@${rows[i].offset}` },
            { title: 'time', value: (i) => rows[i].timestamp.replace('T', ' ').replace(/\.\d+Z$/, '') },
          ],
        }),
      )
    }
    this.out.info(
      `${result.entries.length} ${single ? 'snapshot' : history ? 'versions' : 'keys'} from ${result.records} records in ${result.topics.join(', ')}${result.deleted ? `; ${result.deleted} deleted (tombstones)` : ''}${result.undecodable ? `; ${result.undecodable} undecodable (shown as text)` : ''}`,
    )
  }
}
