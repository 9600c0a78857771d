import { Args, Flags } from '@oclif/core'
import {
  type CheckpointsReport,
  checkpoints,
  type ProjectionCheckpointsReport,
  projectionCheckpoints,
} from '../src/checkpoints/checkpoints-service.js'
import { EsCommand } from '../src/cli/base-command.js'
import { fromFlag, writeFlags } from '../src/cli/flags.js'
import { UsageError } from '../src/errors.js'
import { parseStartSpec } from '../src/kafka/offset-spec.js'
import { canPrompt, confirm } from '../src/prompts/confirm.js'
import {
  describeResetOutcome,
  renderGroupCheckpoints,
  renderProjectionCheckpoints,
  renderResetPlan,
} from '../src/render/checkpoints.js'

export default class Checkpoints extends EsCommand<CheckpointsReport | ProjectionCheckpointsReport> {
  static override summary =
    "Check a consumer group's committed offsets against the log; reset them with a dry run first."
  static override description =
    `For each partition: the committed offset, the log start and end, how many events wait (lag), the time of the last event consumed and of the newest one, and whether the checkpoint is safe: committed past the log end (the topic was truncated or recreated: the consumer will silently reset) or below the log start (events deleted by retention before they were read) exit 1.
--reset-to moves the committed offsets to any position of the offset grammar (beginning, end, an offset, -N, a time): the plan shows per partition how many events are read again or skipped; on a terminal it asks before applying it, --yes applies it without asking, and otherwise (a script, --json, --dry-run) nothing is changed. Refused (exit 1) while the group has active members.`
  static override examples = [
    '<%= config.bin %> checkpoints bank-projector',
    '<%= config.bin %> checkpoints bank-projector --reset-to 2026-11-25T10:00:00Z',
    '<%= config.bin %> checkpoints bank-projector --reset-to beginning --topic bank.events --yes',
    '<%= config.bin %> checkpoints --projection accounts',
  ]
  static override enableJsonFlag = true
  static override args = {
    group: Args.string({ description: 'Consumer group id (with --projection: also compared, optional).' }),
  }
  static override answersNo = (report: CheckpointsReport | ProjectionCheckpointsReport) =>
    report.unsafe && !('reset' in report && report.reset?.executed)
  static override flags = {
    projection: Flags.string({
      summary: 'Check the offsets a projection keeps in its read model (readModel.offsets) instead.',
      exclusive: ['reset-to', 'topic'],
    }),
    topic: Flags.string({
      char: 't',
      summary: 'Only this topic (repeatable); default every topic the group has committed offsets for.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'reset-to': fromFlag({
      summary: 'Move the committed offsets here: beginning, end, <offset>, -<n>, <ISO time>, <duration ago>.',
      parse: async (input: string) => parseStartSpec(input, { flag: '--reset-to' }),
    }),
    'dry-run': Flags.boolean({ summary: 'With --reset-to: show the plan only, never ask.' }),
    ...writeFlags,
    yes: Flags.boolean({
      ...writeFlags.yes,
      summary: 'Apply --reset-to without asking (--execute is the same).',
      aliases: ['execute'],
      exclusive: ['dry-run'],
    }),
  }

  async run(): Promise<CheckpointsReport | ProjectionCheckpointsReport> {
    const { args, flags } = await this.parse(Checkpoints)
    const config = await this.settings()
    if (flags.projection !== undefined) {
      const report = await projectionCheckpoints({
        config,
        service: this.serviceFlag,
        projection: flags.projection,
        group: args.group,
        debug: (line) => this.out.debug(line),
      })
      if (this.jsonEnabled()) return report
      const { table, summary } = renderProjectionCheckpoints(report, this.out.paint)
      this.out.data(table)
      for (const line of summary) this.out.info(line)
      return report
    }
    if (args.group === undefined) {
      throw new UsageError('es checkpoints needs <group>: consumer group id (or --projection <name>)', {
        code: 'USAGE',
      })
    }
    const group = args.group
    const applying = flags['reset-to'] !== undefined && !flags['dry-run']
    // A read-only profile shows the plan (a read) instead of offering to apply it, unless --allow-write.
    const writable = !config.profile?.readOnly || flags['allow-write']
    const ask = applying && !flags.yes && writable && canPrompt(this.jsonEnabled())
    if (applying && (flags.yes || ask)) await this.guardWrite(`reset group ${group}'s offsets`, flags)
    let shown = false
    const report = await checkpoints({
      config,
      group,
      topics: flags.topic,
      resetTo: flags['reset-to'],
      execute: applying && flags.yes,
      confirm: ask
        ? (plan) => {
            this.display(plan)
            shown = true
            return confirm({ question: `Reset group ${group}'s offsets as shown?`, action: 'a reset' })
          }
        : undefined,
      debug: (line) => this.out.debug(line),
    })
    if (!this.jsonEnabled()) {
      if (!shown) this.display(report)
      if (report.reset) this.out.info(describeResetOutcome(report.reset, shown, this.out.paint))
    }
    return report
  }

  /** The tables (shown before the question when there is one). */
  private display(report: CheckpointsReport): void {
    const { table, summary } = renderGroupCheckpoints(report, this.out.paint)
    this.out.data(table)
    this.out.info(summary)
    if (report.reset) this.out.data(renderResetPlan(report.reset, this.out.paint))
  }
}
