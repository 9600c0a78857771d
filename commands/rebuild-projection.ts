import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { cacheFlag, codecFlags, onErrorFlag, workersFlag, writeFlags } from '../src/cli/flags.js'
import { confirm, ensureConfirmable } from '../src/prompts/confirm.js'
import { type RebuildResult, rebuildProjection } from '../src/rebuild/rebuild-service.js'
import { describePlan, describeRebuild } from '../src/render/rebuild.js'

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
    state: Flags.string({ summary: 'Fold into this state file (continued; default temporary files).' }),
    cache: cacheFlag(),
    workers: workersFlag(),
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
    const { finish, ...reporting } = this.reporting('events')
    const result = await rebuildProjection({
      config: await this.settings(),
      service: this.serviceFlag,
      projection: args.projection,
      keepOld: flags['keep-old'],
      dryRun: flags['dry-run'],
      handoffGroup: flags['handoff-group'],
      rollback: flags.rollback,
      state: flags.state,
      cache: flags.cache,
      workers: flags.workers,
      onPlan: (plan) => {
        if (this.jsonEnabled()) return
        if (flags['dry-run']) this.out.data(describePlan(plan))
        else this.out.info(describePlan(plan))
      },
      confirm: flags['dry-run'] || flags.yes ? undefined : () => confirm(confirmation),
      onError: flags['on-error'],
      ...reporting,
    })
    finish()
    if (!this.jsonEnabled())
      for (const line of describeRebuild(result, flags['dry-run'], this.out.paint)) this.out.info(line)
    return result
  }
}
