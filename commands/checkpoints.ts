import { Args } from '@oclif/core'
import {
  type CheckpointsReport,
  checkpoints,
  type ProjectionCheckpointsReport,
  projectionCheckpoints,
} from '../src/checkpoints/checkpoints-service.js'
import { EsCommand } from '../src/cli/base-command.js'
import { checkpointsFlags, resetMode } from '../src/cli/checkpoints-flags.js'
import { UsageError } from '../src/errors.js'
import { confirm } from '../src/prompts/confirm.js'
import { describeResetOutcome, showGroupCheckpoints, showProjectionCheckpoints } from '../src/render/checkpoints.js'

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
  static override flags = checkpointsFlags

  async run(): Promise<CheckpointsReport | ProjectionCheckpointsReport> {
    const { args, flags } = await this.parse(Checkpoints)
    const config = await this.settings()
    const debug = (line: string) => this.out.debug(line)
    if (flags.projection !== undefined) {
      const report = await projectionCheckpoints({
        config,
        service: this.serviceFlag,
        projection: flags.projection,
        group: args.group,
        debug,
      })
      if (!this.jsonEnabled()) showProjectionCheckpoints(this.out, report)
      return report
    }
    if (args.group === undefined) {
      throw new UsageError('es checkpoints needs <group>: consumer group id (or --projection <name>)', {
        code: 'USAGE',
      })
    }
    const group = args.group
    const mode = resetMode(flags, config.profile?.readOnly === true, this.jsonEnabled())
    if (mode === 'apply' || mode === 'ask') await this.guardWrite(`reset group ${group}'s offsets`, flags)
    let shown = false // the tables, shown before the question when there is one
    const report = await checkpoints({
      config,
      group,
      topics: flags.topic,
      resetTo: flags['reset-to'],
      execute: mode === 'apply',
      confirm:
        mode === 'ask'
          ? (plan) => {
              showGroupCheckpoints(this.out, plan)
              shown = true
              return confirm({ question: `Reset group ${group}'s offsets as shown?`, action: 'a reset' })
            }
          : undefined,
      debug,
    })
    if (!this.jsonEnabled()) {
      if (!shown) showGroupCheckpoints(this.out, report)
      if (report.reset) this.out.info(describeResetOutcome(report.reset, shown, this.out.paint))
    }
    return report
  }
}
