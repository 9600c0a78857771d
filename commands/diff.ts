import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { cacheFlag, codecFlags, onErrorFlag, workersFlag } from '../src/cli/flags.js'
import { type DiffReport, diffProjection } from '../src/diff/diff-service.js'
import { describeDiff, renderDrift } from '../src/render/drift.js'

export default class Diff extends EsCommand<DiffReport> {
  static override summary = "Compare a projection's replayed state with its live read model, per aggregate."
  static override description =
    `Replays the projection (in memory from offset 0, or --state FILE continued from its stored offsets) up to the ends fixed at start, then reads the read model (SQLite, PostgreSQL, HTTP or a compacted topic) and reports, per aggregate: missing in the read model, extra in the read model, or the fields that differ. State fields match columns by name with case, _ and - ignored (updatedAt = updated_at), or by readModel.columns. Rows with a higher version than the replay reached were written after its end: reported as ahead, not as drift.
Exit 0 when they agree, 1 on drift.`
  static override examples = [
    '<%= config.bin %> diff accounts',
    '<%= config.bin %> diff accounts --ignore updatedAt --tolerance 0.005',
    '<%= config.bin %> diff accounts --state accounts.db --json',
  ]
  static override enableJsonFlag = true
  static override answersNo = (report: DiffReport) => report.drift
  static override args = { projection: Args.string({ description: 'Projection to check (default: the only one).' }) }
  static override flags = {
    ...codecFlags,
    state: Flags.string({
      summary: 'A replay state file (es replay --state): continue it to the current end, then compare.',
    }),
    cache: cacheFlag(),
    workers: workersFlag(),
    ignore: Flags.string({
      summary: 'A field (or column) not to compare; repeatable.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    tolerance: Flags.custom<number>({
      summary: 'Numbers this close are equal (also instants, in ms).',
      parse: async (input) => {
        const value = Number(input)
        if (!Number.isFinite(value) || value < 0) throw new Error(`--tolerance wants a number ≥ 0, not "${input}"`)
        return value
      },
    })(),
    limit: Flags.integer({ summary: 'Drifted aggregates shown in detail (all are counted).', default: 20, min: 0 }),
    'on-error': onErrorFlag(),
  }

  async run(): Promise<DiffReport> {
    const { args, flags } = await this.parse(Diff)
    const { finish, ...reporting } = this.reporting('events')
    const report = await diffProjection({
      config: await this.settings(),
      service: this.serviceFlag,
      projection: args.projection,
      state: flags.state,
      cache: flags.cache,
      workers: flags.workers,
      ignore: flags.ignore,
      tolerance: flags.tolerance,
      limit: flags.limit,
      onError: flags['on-error'],
      ...reporting,
    })
    finish()
    if (!this.jsonEnabled()) {
      if (report.details.length > 0) this.out.data(renderDrift(report.details, this.out.paint))
      for (const line of describeDiff(report, this.out.paint)) this.out.info(line)
    }
    return report
  }
}
