import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import {
  codecFlags,
  formatFlag,
  fromFlag,
  partitionerFlag,
  partitionFlag,
  topicFlag,
  untilFlag,
  whereFlag,
} from '../src/cli/flags.js'
import { describeFailureGroup } from '../src/codecs/failure-summary.js'
import { checkRange } from '../src/kafka/offset-spec.js'
import { formatRecord } from '../src/render/records.js'
import { describeReach, keysNotFound } from '../src/render/summary.js'
import { resolveTopics } from '../src/service/resolve.js'
import { openRuntime } from '../src/service/runtime.js'
import { runTail, type TailSummary } from '../src/tail/run.js'

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
  static override flags = {
    ...codecFlags,
    topic: topicFlag,
    from: fromFlag(),
    'from-beginning': Flags.boolean({ summary: 'Shorthand for --from beginning.', exclusive: ['from'] }),
    until: untilFlag(),
    'until-end': Flags.boolean({
      char: 'e',
      summary: 'Stop at the ends fixed at start (--until end).',
      exclusive: ['until'],
    }),
    follow: Flags.boolean({
      char: 'f',
      summary: 'Keep following the log (the default without --until).',
      exclusive: ['until', 'until-end'],
    }),
    partition: partitionFlag,
    key: Flags.string({
      char: 'k',
      summary: 'Only records with this key (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    type: Flags.string({
      summary: 'Only events of this type (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    where: whereFlag(),
    limit: Flags.integer({ char: 'c', summary: 'Stop after this many shown records.', min: 1 }),
    format: formatFlag(),
    partitioner: partitionerFlag,
  }

  async run(): Promise<TailSummary> {
    const { args, flags } = await this.parse(Tail)
    const until = flags['until-end'] ? ({ kind: 'end' } as const) : flags.until
    checkRange(flags.from, flags.until)
    const from = flags['from-beginning']
      ? ({ kind: 'beginning' } as const)
      : (flags.from ?? { kind: until ? 'beginning' : 'end' })
    const runtime = openRuntime(await this.settings(), this.serviceFlag, { debug: (line) => this.out.debug(line) })
    // Ctrl-C ends a follow with exit 0, as kcat's does; a second one exits 130 at once.
    const interruption = this.interruption()
    const lines = this.out.batch()
    try {
      const topics = resolveTopics(runtime.service, args.stream, flags.topic, 'events')
      const summary = await runTail({
        reader: runtime.reader,
        topics,
        from,
        until,
        partitions: flags.partition,
        partitioner: flags.partitioner ?? runtime.service.partitioner,
        filter: { keys: flags.key, types: flags.type, where: flags.where },
        limit: flags.limit,
        decode: await runtime.decoder(),
        schemaOf: await runtime.schemaOf(),
        valuesAreJsonText: (await runtime.codecs()).value.jsonText,
        onRecord: (record) => lines.add(formatRecord(record, flags.format, this.out.paint)),
        drained: () => {
          lines.flush()
          return this.out.drained()
        },
        signal: interruption.signal,
        onConnection: (state, message) => (state === 'lost' ? this.out.warn(message) : this.out.info(message)),
      })
      if (summary.hiddenUndecodable > 0) {
        this.out.warn(
          `${summary.hiddenUndecodable} undecodable records were not shown: --type/--where cannot judge them (run without those filters to see them)`,
        )
      }
      for (const notice of summary.notices) {
        const fields = notice.fields.length ? notice.fields.join(', ') : '(none)'
        this.out.warn(
          `${notice.filter} matched nothing: no record read has ${notice.missing}; ${notice.under ? `fields seen under ${notice.under}` : 'top-level fields seen'}: ${fields}`,
        )
      }
      if (until) {
        this.out.info(
          `${summary.shown} of ${summary.read} records shown${summary.undecodable ? `, ${summary.undecodable} undecodable` : ''}; ${summary.complete ? `complete at ${describeReach(summary.ranges)}` : 'stopped early'}`,
        )
        for (const group of summary.failures) this.out.warn(describeFailureGroup(group))
      }
      for (const line of keysNotFound(summary)) this.out.warn(line)
      return summary
    } finally {
      lines.flush()
      interruption.release()
      await runtime.close()
    }
  }
}
