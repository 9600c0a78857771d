import { Args, Flags } from '@oclif/core'
import { type CheckpointsReport, checkpoints } from '../src/checkpoints/checkpoints-service.js'
import { EsCommand } from '../src/cli/base-command.js'
import { fromFlag, writeFlags } from '../src/cli/flags.js'
import { parseStartSpec } from '../src/kafka/offset-spec.js'
import { canPrompt, confirm } from '../src/prompts/confirm.js'
import { renderGrid } from '../src/render/table.js'

export default class Checkpoints extends EsCommand<CheckpointsReport> {
  static override summary =
    "Check a consumer group's committed offsets against the log; reset them with a dry run first."
  static override description =
    `For each partition: the committed offset, the log start and end, how many events wait (lag), the time of the last event consumed and of the newest one, and whether the checkpoint is safe: committed past the log end (the topic was truncated or recreated: the consumer will silently reset) or below the log start (events deleted by retention before they were read) exit 1.
--reset-to moves the committed offsets to any position of the offset grammar (beginning, end, an offset, -N, a time): the plan shows per partition how many events are read again or skipped; on a terminal it asks before applying it, --yes applies it without asking, and otherwise (a script, --json, --dry-run) nothing is changed. Refused (exit 1) while the group has active members.`
  static override examples = [
    '<%= config.bin %> checkpoints bank-projector',
    '<%= config.bin %> checkpoints bank-projector --reset-to 2026-11-25T10:00:00Z',
    '<%= config.bin %> checkpoints bank-projector --reset-to beginning --topic bank.events --yes',
  ]
  static override enableJsonFlag = true
  static override args = { group: Args.string({ description: 'Consumer group id.', required: true }) }
  static override flags = {
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

  async run(): Promise<CheckpointsReport> {
    const { args, flags } = await this.parse(Checkpoints)
    const config = await this.settings()
    const applying = flags['reset-to'] !== undefined && !flags['dry-run']
    // A read-only profile shows the plan (a read) instead of offering to apply it, unless --allow-write.
    const writable = !config.profile?.readOnly || flags['allow-write']
    const ask = applying && !flags.yes && writable && canPrompt(this.jsonEnabled())
    if (applying && (flags.yes || ask)) await this.guardWrite(`reset group ${args.group}'s offsets`, flags)
    let shown = false
    const report = await checkpoints({
      config,
      group: args.group,
      topics: flags.topic,
      resetTo: flags['reset-to'],
      execute: applying && flags.yes,
      confirm: ask
        ? (plan) => {
            this.display(plan, 'tables')
            shown = true
            return confirm({ question: `Reset group ${args.group}'s offsets as shown?`, action: 'a reset' })
          }
        : undefined,
      debug: (line) => this.out.debug(line),
    })
    if (report.unsafe && !report.reset?.executed) process.exitCode = 1
    if (!this.jsonEnabled()) this.display(report, shown ? 'outcome' : 'all')
    return report
  }

  /** The tables (shown before the question when there is one), then the outcome of a reset. */
  private display(report: CheckpointsReport, stage: 'all' | 'tables' | 'outcome'): void {
    const { paint } = this.out
    if (stage === 'outcome') {
      this.out.info(report.reset?.executed ? paint.green('offsets reset') : 'cancelled: nothing was changed')
      return
    }
    const status = (s: string) =>
      s === 'past-end' || s === 'below-start' ? paint.red(s) : s === 'behind' ? paint.yellow(s) : s
    this.out.data(
      renderGrid(
        paint,
        ['topic', 'partition', 'committed', 'log start', 'log end', 'lag', 'status', 'last consumed', 'newest'],
        report.partitions.map((p) => [
          p.topic,
          String(p.partition),
          p.committed === null ? '—' : String(p.committed),
          String(p.start),
          String(p.end),
          p.lag === null ? '—' : p.lag.toLocaleString('en-US'),
          status(p.status) + (p.lost ? ` (${p.lost.toLocaleString('en-US')} lost)` : ''),
          p.committedAt ?? '',
          p.newestAt ?? '',
        ]),
      ),
    )
    const lag = report.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0)
    this.out.info(
      `group ${report.group} (${report.state}, ${report.members} ${report.members === 1 ? 'member' : 'members'}): ${lag.toLocaleString('en-US')} events behind${report.unsafe ? `; ${paint.red('unsafe checkpoint')}: the group will skip or repeat events` : ''}`,
    )
    if (report.reset) {
      this.out.data(
        renderGrid(
          paint,
          ['topic', 'partition', 'committed', 'reset to', 'effect', 'events from', 'events until'],
          report.reset.rows.map((r) => [
            r.topic,
            String(r.partition),
            r.committed === null ? '—' : String(r.committed),
            String(r.target),
            r.replayed === null
              ? 'first commit'
              : r.replayed > 0
                ? `${r.replayed.toLocaleString('en-US')} events read again`
                : r.replayed < 0
                  ? `${(-r.replayed).toLocaleString('en-US')} events skipped`
                  : 'unchanged',
            r.from ?? '',
            r.until ?? '',
          ]),
        ),
      )
      if (stage === 'all') {
        this.out.info(
          report.reset.executed ? paint.green('offsets reset') : 'dry run: nothing was changed (add --yes to apply)',
        )
      }
    }
  }
}
