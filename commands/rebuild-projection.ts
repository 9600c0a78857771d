import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { codecFlags, onErrorFlag, writeFlags } from '../src/cli/flags.js'
import { confirm, ensureConfirmable } from '../src/prompts/confirm.js'
import { type RebuildPlan, type RebuildResult, rebuildProjection } from '../src/rebuild/rebuild-service.js'
import { createProgress, formatDuration, formatRate } from '../src/render/progress.js'
import { describeReach } from '../src/render/summary.js'

export default class RebuildProjection extends EsCommand<RebuildResult> {
  static override summary =
    'Rebuild a read model from the events: replay into a shadow table, then swap it in atomically.'
  static override description =
    `Replays the projection from offset 0 to the ends fixed at start, writes the result into a shadow of the read-model table (same definition, next to it), and swaps it in with one transaction: readers see the old table untouched until the swap, then the complete new one. The old table is dropped, or kept with --keep-old. --dry-run prints the plan (events, time span, target, group offsets) and changes nothing. Asks for confirmation on a terminal unless --yes. --handoff-group sets the live projector's committed offsets to the rebuild's end offsets (refused, exit 1, while the group has active members). SQLite and PostgreSQL read models.`
  static override examples = [
    '<%= config.bin %> rebuild-projection accounts --dry-run',
    '<%= config.bin %> rebuild-projection accounts --yes --keep-old',
    '<%= config.bin %> rebuild-projection accounts --yes --handoff-group bank-projector',
  ]
  static override enableJsonFlag = true
  static override args = { projection: Args.string({ description: 'Projection to rebuild (default: the only one).' }) }
  static override flags = {
    ...codecFlags,
    'dry-run': Flags.boolean({ summary: 'Print the plan; change nothing.' }),
    ...writeFlags,
    'keep-old': Flags.boolean({ summary: 'Keep the replaced table (renamed <table>__es_old_<time>).' }),
    rollback: Flags.boolean({
      summary: 'Put back the table kept by the last --keep-old rebuild (the current one is kept in turn).',
      exclusive: ['keep-old', 'handoff-group'],
    }),
    'handoff-group': Flags.string({
      summary: "Set this consumer group's committed offsets to the rebuild's end offsets (group must be empty).",
    }),
    'on-error': onErrorFlag(),
  }

  async run(): Promise<RebuildResult> {
    const { args, flags } = await this.parse(RebuildProjection)
    const confirmation = {
      action: 'rebuild-projection replaces a read model',
      question: flags.rollback
        ? 'Put the kept table back in place of the live one?'
        : `Replace ${flags['keep-old'] ? '(keeping the old table) ' : ''}the read model?`,
      yes: flags.yes,
      json: this.jsonEnabled(),
      suggestion: 'run it with --dry-run first to see the plan',
    }
    if (!flags['dry-run']) {
      const target = args.projection ? `projection ${args.projection}` : 'the projection'
      await this.guardWrite(
        `${flags.rollback ? 'roll back' : 'rebuild'} ${target}${flags['handoff-group'] ? ` and move group ${flags['handoff-group']}'s offsets` : ''}`,
        flags,
      )
      ensureConfirmable(confirmation)
    }
    const progress = createProgress(this.out, 'events')
    const result = await rebuildProjection({
      config: await this.settings(),
      service: this.serviceFlag,
      projection: args.projection,
      keepOld: flags['keep-old'],
      dryRun: flags['dry-run'],
      handoffGroup: flags['handoff-group'],
      rollback: flags.rollback,
      onPlan: (plan) => {
        if (this.jsonEnabled()) return
        const text = describePlan(plan)
        if (flags['dry-run']) this.out.data(text)
        else this.out.info(text)
      },
      confirm: flags['dry-run'] || flags.yes ? undefined : () => confirm(confirmation),
      onError: flags['on-error'],
      onProgress: (p) => progress.update(p),
      onWarning: (message) => progress.interrupt(`${this.out.paint.yellow('warning')} ${message}`),
      runtime: { debug: (line) => this.out.debug(line) },
    })
    progress.finish()
    if (!this.jsonEnabled()) this.display(result, flags['dry-run'])
    return result
  }

  private display(result: RebuildResult, dryRun: boolean): void {
    const { paint } = this.out
    if (!result.rebuilt) {
      this.out.info(dryRun ? 'dry run: nothing was changed' : 'cancelled: nothing was changed')
      return
    }
    if (result.restored) {
      this.out.info(
        `${paint.green('rolled back')} ${result.plan.target}: ${result.restored} is live again; the replaced table is kept as ${result.kept}`,
      )
      return
    }
    const replay = result.replay!
    const rows = result.rows ?? 0
    this.out.info(
      `${paint.green('rebuilt')} ${result.plan.target}: ${rows.toLocaleString('en-US')} ${rows === 1 ? 'row' : 'rows'} from ${replay.events.toLocaleString('en-US')} events in ${formatDuration(replay.durationMs)} (${formatRate(replay.eventsPerSecond)}), up to ${describeReach(replay.partitions)}`,
    )
    this.out.info(result.kept ? `old table kept as ${result.kept}` : 'old table dropped')
    if (result.unmapped?.length) this.out.info(`not written (no such column): ${result.unmapped.join(', ')}`)
    if (result.handoff) {
      this.out.info(
        `consumer group ${result.handoff.group} now starts at ${describeReach(result.handoff.offsets.map((o) => ({ ...o, reached: o.offset })))}`,
      )
    }
    if (replay.skippedCount > 0)
      this.out.info(paint.yellow(`skipped ${replay.skippedCount} undecodable records (see --json)`))
  }
}

function describePlan(plan: RebuildPlan): string {
  if (plan.restore) {
    return [
      `roll back projection ${plan.projection}`,
      `  target     ${plan.target}`,
      `  put back   ${plan.restore} (kept by an earlier rebuild)`,
      '  current    kept under a new name (roll back again to undo)',
    ].join('\n')
  }
  const lines = [
    `rebuild projection ${plan.projection}`,
    `  reducer    ${plan.reducer}`,
    `  replay     ${plan.events.toLocaleString('en-US')} events: ${describeRanges(plan.partitions)}`,
    `  time span  ${plan.from && plan.until ? `${plan.from} → ${plan.until}` : '(no events)'}`,
    `  target     ${plan.target}, built as ${plan.shadow} and swapped in`,
    `  old table  ${plan.keepOld ? 'kept (renamed)' : 'dropped after the swap'}`,
  ]
  if (plan.handoff) {
    const committed = plan.handoff.committed.map((c) => `${c.topic}/${c.partition}@${c.offset ?? 'none'}`).join(', ')
    lines.push(
      `  handoff    group ${plan.handoff.group} (${plan.handoff.state}, ${plan.handoff.members} members), committed ${committed || 'nothing'} → the replay's end offsets`,
    )
  }
  return lines.join('\n')
}

/** `bank.events/2 0→5, bank.events/3 0→7 (2 empty partitions)`. */
function describeRanges(partitions: RebuildPlan['partitions']): string {
  const busy = partitions.filter((p) => p.end > p.start)
  const empty = partitions.length - busy.length
  const text = busy.map((p) => `${p.topic}/${p.partition} ${p.start}→${p.end}`).join(', ')
  if (empty === 0) return text
  return `${text}${text ? ' ' : ''}(${empty} empty ${empty === 1 ? 'partition' : 'partitions'})`
}
