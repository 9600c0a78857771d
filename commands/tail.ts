import { Args } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { tailFlags, tailRange } from '../src/cli/tail-flags.js'
import { formatRecord } from '../src/render/records.js'
import { renderTailSummary } from '../src/render/tail.js'
import type { TailSummary } from '../src/tail/run.js'
import { tailService } from '../src/tail/tail-service.js'

export default class Tail extends EsCommand<TailSummary> {
  static override summary = 'Show records of a stream or topic, live or over any range, decoded and filtered.'
  static override description =
    `Reads partitions directly (no consumer group, nothing committed). Without --until it follows the log (from its end unless --from says otherwise); with --until or -e it stops at the ends fixed at start and reports the offsets it completed.
A record that cannot be decoded is shown raw with the decode error, never dropped.`
  static override examples = [
    '<%= config.bin %> tail events',
    '<%= config.bin %> tail events --from-beginning -e --type FundsDeposited --format ndjson | jq .value',
    "<%= config.bin %> tail events --from 15m --key acc-42 --where 'payload.amount > 100'",
    '<%= config.bin %> tail --topic orders --brokers localhost:9092 --from -10 -e',
  ]
  static override args = {
    stream: Args.string({ description: 'commands, events, snapshots, or a topic name (default: events)' }),
  }
  static override flags = tailFlags

  async run(): Promise<TailSummary> {
    const { args, flags } = await this.parse(Tail)
    const { from, until } = tailRange(flags)
    const config = await this.settings()
    // Ctrl-C ends a follow with exit 0, as kcat's does; a second one exits 130 at once.
    const interruption = this.interruption()
    const lines = this.out.batch()
    try {
      const summary = await tailService({
        config,
        service: this.serviceFlag,
        stream: args.stream,
        topics: flags.topic,
        from,
        until,
        partitions: flags.partition,
        partitioner: flags.partitioner,
        filter: { keys: flags.key, types: flags.type, where: flags.where },
        limit: flags.limit,
        onRecord: (record) => lines.add(formatRecord(record, flags.format, this.out.paint)),
        drained: () => {
          lines.flush()
          return this.out.drained()
        },
        signal: interruption.signal,
        onConnection: (state, message) => (state === 'lost' ? this.out.warn(message) : this.out.info(message)),
        runtime: { debug: (line) => this.out.debug(line) },
      })
      renderTailSummary(this.out, summary, until !== undefined)
      return summary
    } finally {
      lines.flush()
      interruption.release()
    }
  }
}
