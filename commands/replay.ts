import { EsCommand } from '../src/cli/base-command.js'
import { checkStateOut, replayFlags } from '../src/cli/replay-flags.js'
import { showReplay, traceLine } from '../src/render/replay.js'
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
  static override flags = replayFlags

  async run(): Promise<ReplayServiceResult> {
    const { flags } = await this.parse(Replay)
    const { finish, ...reporting } = this.reporting('records')
    const json = this.jsonEnabled()
    checkStateOut(flags.out, json)
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
    if (!json) showReplay(this.out, result)
    return result
  }
}
