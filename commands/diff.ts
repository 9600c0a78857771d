import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { codecFlags, onErrorFlag } from '../src/cli/flags.js'
import type { AggregateDrift } from '../src/diff/compare.js'
import { type DiffReport, diffProjection } from '../src/diff/diff-service.js'
import { renderDrift } from '../src/render/drift.js'
import { createProgress, formatDuration } from '../src/render/progress.js'
import { describeReach } from '../src/render/summary.js'

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
  static override args = { projection: Args.string({ description: 'Projection to check (default: the only one).' }) }
  static override flags = {
    ...codecFlags,
    state: Flags.string({
      summary: 'A replay state file (es replay --state): continue it to the current end, then compare.',
    }),
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
    const progress = createProgress(this.out, 'events')
    const report = await diffProjection({
      config: await this.settings(),
      service: this.serviceFlag,
      projection: args.projection,
      state: flags.state,
      ignore: flags.ignore,
      tolerance: flags.tolerance,
      limit: flags.limit,
      onError: flags['on-error'],
      onProgress: (p) => progress.update(p),
      onWarning: (message) => progress.interrupt(`${this.out.paint.yellow('warning')} ${message}`),
      runtime: { debug: (line) => this.out.debug(line) },
    })
    progress.finish()
    if (report.drift) process.exitCode = 1
    if (!this.jsonEnabled()) this.display(report)
    return report
  }

  private display(report: DiffReport): void {
    const { paint } = this.out
    const { counts, replay } = report
    if (report.details.length > 0) this.out.data(renderDrift(report.details as AggregateDrift[], paint))
    const shown = report.details.length
    const drifted = counts.missing + counts.extra + counts.changed
    const verdict = report.drift
      ? paint.red(`drift in ${drifted.toLocaleString('en-US')} ${drifted === 1 ? 'aggregate' : 'aggregates'}`)
      : paint.green('no drift')
    this.out.info(
      `${verdict}: ${counts.missing} missing in the read model, ${counts.extra} extra${counts.readModel === null ? ' (not listable: unknown)' : ''}, ${counts.changed} changed; ${counts.compared.toLocaleString('en-US')} of ${counts.replayed.toLocaleString('en-US')} replayed aggregates compared with ${report.readModel}`,
    )
    if (drifted > shown) this.out.info(`showing ${shown} of ${drifted} (--limit)`)
    if (counts.ahead > 0) {
      this.out.info(
        `${counts.ahead} rows are ahead of the replay (a higher version: written after its end), not counted as drift: ${report.aheadIds.slice(0, 5).join(', ')}${counts.ahead > 5 ? ', …' : ''}`,
      )
    }
    if (report.unmapped.length > 0) {
      this.out.info(`not compared (no such column in the read model): ${report.unmapped.join(', ')}`)
    }
    this.out.info(
      `replayed ${replay.events.toLocaleString('en-US')} events in ${formatDuration(replay.durationMs)}${replay.resumed ? ' (continued from the state file)' : ''}, up to ${describeReach(replay.partitions)}`,
    )
  }
}
