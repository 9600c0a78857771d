import { Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { cacheFlag, codecFlags, onErrorFlag, topicFlag, untilFlag } from '../src/cli/flags.js'
import { describeFailureGroup } from '../src/codecs/failure-summary.js'
import { createProgress, formatDuration, formatRate } from '../src/render/progress.js'
import { describeReach } from '../src/render/summary.js'
import { type ReplayServiceResult, replayService } from '../src/replay/replay-service.js'

export default class Replay extends EsCommand<ReplayServiceResult> {
  static override summary = 'Fold events into state with a reducer, exactly to the ends fixed at start.'
  static override description =
    `Reads every partition of the projection's topics up to the end offsets fixed when the command starts, folds each event with the reducer, and stops. State lives in memory or in a SQLite file (--state FILE) where state and offsets are committed together: run again without --from-beginning to continue from the stored offsets; a replay killed at any moment and resumed ends in the same state as an uninterrupted one.
Reducers: a projection's (--projection), a module exporting initialState(aggregateId) and evolve(state, event) (.js/.ts), or a built-in: latest, merge, count, collect.`
  static override examples = [
    '<%= config.bin %> replay --from-beginning --projection accounts',
    '<%= config.bin %> replay --projection accounts --state accounts.db --out accounts.ndjson',
    '<%= config.bin %> replay --from-beginning --reducer ./reducers/account.js --aggregate acc-42 --trace',
    '<%= config.bin %> replay --from-beginning --reducer count --topic orders --brokers localhost:9092 --json',
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...codecFlags,
    'from-beginning': Flags.boolean({ summary: 'Start at offset 0 and discard stored state.' }),
    projection: Flags.string({ summary: 'Projection of the service (its reducer and topics).' }),
    reducer: Flags.string({
      char: 'r',
      summary: 'Reducer module (.js/.ts) or built-in: latest, merge, count, collect.',
    }),
    state: Flags.string({ summary: 'Where state lives: memory, or a SQLite file (resumable).', default: 'memory' }),
    cache: cacheFlag(),
    until: untilFlag(),
    aggregate: Flags.string({ char: 'a', summary: 'Fold only this aggregate and print its state.' }),
    trace: Flags.boolean({
      summary: 'With --aggregate: print each event and the state after it.',
      dependsOn: ['aggregate'],
    }),
    out: Flags.string({ summary: 'Write the final state to a file: JSON, or NDJSON for .ndjson/.jsonl.' }),
    'on-error': onErrorFlag(),
    topic: topicFlag,
    workers: Flags.integer({
      summary: 'Threads folding partition groups in parallel (default: one per core for large fresh replays; 1: none).',
      min: 1,
      max: 16,
    }),
  }

  async run(): Promise<ReplayServiceResult> {
    const { flags } = await this.parse(Replay)
    const progress = createProgress(this.out, 'records')
    const trace = flags.trace
      ? (
          event: {
            type?: string
            offset: number
            partition: number
            topic: string
            version?: number
            payload: unknown
          },
          state: unknown,
        ) => {
          const line = {
            type: event.type,
            version: event.version,
            topic: event.topic,
            partition: event.partition,
            offset: event.offset,
            payload: event.payload,
            state,
          }
          if (!this.jsonEnabled()) this.out.data(JSON.stringify(line))
        }
      : undefined
    const result = await replayService({
      config: await this.settings(),
      service: this.serviceFlag,
      projection: flags.projection,
      reducer: flags.reducer,
      topics: flags.topic,
      state: flags.state,
      cache: flags.cache,
      fromBeginning: flags['from-beginning'],
      until: flags.until,
      aggregate: flags.aggregate,
      trace,
      out: flags.out,
      onError: flags['on-error'],
      onProgress: (p) => progress.update(p),
      onWarning: (message) => progress.interrupt(`${this.out.paint.yellow('warning')} ${message}`),
      runtime: { debug: (line) => this.out.debug(line) },
      workers: flags.workers,
    })
    progress.finish()
    if (!this.jsonEnabled()) this.display(result)
    return result
  }

  private display(result: ReplayServiceResult): void {
    const { paint } = this.out
    if ('aggregateState' in result) this.out.data(JSON.stringify(result.aggregateState))
    const lines = [
      `${paint.green('replayed')} ${result.events.toLocaleString('en-US')} events into ${result.aggregates.toLocaleString('en-US')} aggregates in ${formatDuration(result.durationMs)} (${formatRate(result.eventsPerSecond)}${result.workers > 1 ? `, ${result.workers} threads` : ''})${result.resumed ? ', resumed from stored offsets' : ''}`,
      `${result.complete ? 'complete at' : 'stopped at'} ${describeReach(result.partitions)}`,
      `state: ${result.state}${result.out ? `; written to ${result.out.file}` : ''}`,
    ]
    if (result.skippedCount > 0) {
      lines.push(paint.yellow(`skipped ${result.skippedCount} undecodable records:`))
      for (const s of result.skipped.slice(0, 20)) lines.push(`  ${s.topic}/${s.partition}@${s.offset}: ${s.reason}`)
      if (result.skippedCount > 20) lines.push(`  … ${result.skippedCount - 20} more (all in --json output up to 1000)`)
      const groups = result.failures ?? []
      const partial = result.skippedCount > result.skipped.length ? ` (of the first ${result.skipped.length})` : ''
      lines.push(paint.yellow(`undecodable by type and schema${partial}:`))
      for (const group of groups) lines.push(`  ${describeFailureGroup(group)}`)
    }
    for (const line of lines) process.stderr.write(`${line}\n`)
  }
}
