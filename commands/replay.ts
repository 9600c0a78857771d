import { Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { cacheFlag, codecFlags, onErrorFlag, partitionerFlag, topicFlag, untilFlag } from '../src/cli/flags.js'
import { UsageError } from '../src/errors.js'
import { describeReplay, traceLine } from '../src/render/replay.js'
import { type ReplayServiceResult, replayService } from '../src/replay/replay-service.js'

export default class Replay extends EsCommand<ReplayServiceResult> {
  static override summary = 'Fold events into state with a reducer, exactly to the ends fixed at start.'
  static override description =
    `Reads every partition of the projection's topics up to the end offsets fixed when the command starts, folds each event with the reducer, and stops. State lives in memory or in a SQLite file (--state FILE) where state and offsets are committed together: run again without --from-beginning to continue from the stored offsets; a replay killed at any moment and resumed ends in the same state as an uninterrupted one.
Reducers: a projection's (--projection), a module exporting initialState(aggregateId) and evolve(state, event) (.js/.ts), or a built-in: latest, merge, count, collect.`
  static override examples = [
    '<%= config.bin %> replay --from-beginning --projection accounts',
    '<%= config.bin %> replay --projection accounts --state accounts.db --out accounts.ndjson',
    "<%= config.bin %> replay --from-beginning --projection accounts --out - | jq -c 'select(.state.balance < 0)'",
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
    out: Flags.string({
      summary:
        'Write the final state: to a file (JSON, or NDJSON for .ndjson/.jsonl), or to stdout as NDJSON with -. A device or symlink is written through, never replaced.',
    }),
    'on-error': onErrorFlag(),
    topic: topicFlag,
    workers: Flags.integer({
      summary: 'Threads folding partition groups in parallel (default: one per core for large fresh replays; 1: none).',
      min: 1,
      max: 16,
    }),
    partitioner: partitionerFlag,
  }

  async run(): Promise<ReplayServiceResult> {
    const { flags } = await this.parse(Replay)
    const { finish, ...reporting } = this.reporting('records')
    const json = this.jsonEnabled()
    if (flags.out === '-' && json) {
      throw new UsageError('--out - writes the state to stdout, where --json writes the result: use one', {
        code: 'USAGE',
        suggestion: 'write the state to a file: --out state.ndjson',
      })
    }
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
      trace: flags.trace && !json ? (event, state) => this.out.data(traceLine(event, state)) : undefined,
      out: flags.out,
      onError: flags['on-error'],
      workers: flags.workers,
      partitioner: flags.partitioner,
      ...reporting,
    })
    finish()
    if (!json) {
      if ('aggregateState' in result) this.out.data(JSON.stringify(result.aggregateState))
      for (const line of describeReplay(result, this.out.paint)) process.stderr.write(`${line}\n`)
    }
    return result
  }
}
