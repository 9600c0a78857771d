import { Args } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { commandType, sendCommandFlags } from '../src/cli/send-flags.js'
import { ExitCode } from '../src/errors.js'
import { confirmSend, promptPayload, requireTerminal } from '../src/prompts/schema-prompts.js'
import { eventLine, renderBatch, renderSend, sendExitCode } from '../src/render/send.js'
import { type BatchResult, sendBatch } from '../src/send/batch.js'
import { parseHeaders, readPayload, readStdin } from '../src/send/payload.js'
import { type SendResult, sendCommand } from '../src/send/send-command.js'

export default class SendCommand extends EsCommand<SendResult | BatchResult> {
  static override summary =
    'Send a command: validated, encoded as the service expects, idempotent; optionally wait for its events.'
  static override description =
    `The payload comes from --data, --data-file <path|-> (- is stdin) or --interactive prompts built from the command's JSON Schema. Nothing is produced unless the payload is valid. The command id (--id, default a new UUID) travels in the envelope: send again with the same --id to retry idempotently.
With --wait, es fixes the end of the events stream before producing, then shows the events whose causation (or correlation) id is the command id: exit 0 when accepted, 1 when an event is a rejection (the service's "rejections"), 4 when nothing arrives within --timeout.
--batch <file|->: NDJSON, one command a line {"type","data","key"?,"id"?,"headers"?,"expectedVersion"?} (TYPE for lines without one); every line is validated and encoded before any is produced (exit 5 names the line), then all are produced in order per key; with --wait, the outcomes are counted.
Without a config, --topic and --brokers send {"id","type","timestamp","data"} JSON, keyed by --key.`
  static override examples = [
    `<%= config.bin %> send-command DepositFunds --key acc-42 --data '{"amount":10}' --expected-version 3 --wait`,
    '<%= config.bin %> send-command OpenAccount --key acc-43 --interactive',
    `echo '{"amount":5}' | <%= config.bin %> send-command DepositFunds --key acc-42 --data-file - --id 0b6d…  # a retry`,
    '<%= config.bin %> send-command DepositFunds --batch deposits.ndjson --wait',
    `<%= config.bin %> send-command Ping --topic tests.commands --brokers localhost:9092 --key k1 --data '{}'`,
  ]
  static override enableJsonFlag = true
  static override args = {
    type: Args.string({ description: 'Command type (with --batch: of lines naming none).', ignoreStdin: true }),
  }
  static override flags = sendCommandFlags
  static override answersNo = (result: SendResult | BatchResult) => sendExitCode(result) === ExitCode.no

  async run(): Promise<SendResult | BatchResult> {
    const { args, flags } = await this.parse(SendCommand)
    const json = this.jsonEnabled()
    const type = commandType(args.type, flags.batch)
    if (flags.interactive) requireTerminal(json)
    if (!flags['dry-run'])
      await this.guardWrite(flags.batch ? `send commands from ${flags.batch}` : `send ${type}`, flags)
    const common = {
      config: await this.settings(),
      service: this.serviceFlag,
      topic: flags.topic,
      partitioner: flags.partitioner,
      runtime: { debug: (line: string) => this.out.debug(line) },
    }
    const timeoutMs = flags.timeout ?? 10_000
    if (flags.batch !== undefined) {
      const result = await sendBatch({
        ...common,
        source: flags.batch,
        type,
        wait: flags.wait ? { timeoutMs } : undefined,
      })
      if (!json) renderBatch(this.out, result)
      // Outcomes that never came, none of them a rejection (a "no"), are a timeout.
      if (sendExitCode(result) === ExitCode.unreachable) process.exitCode = ExitCode.unreachable
      return result
    }
    const result = await sendCommand({
      ...common,
      type: type as string,
      payload: flags.interactive
        ? promptPayload
        : await readPayload({ data: flags.data, dataFile: flags['data-file'], readStdin }),
      id: flags.id,
      key: flags.key,
      headers: parseHeaders(flags.header ?? []),
      expectedVersion: flags['expected-version'],
      dryRun: flags['dry-run'],
      confirm: flags.interactive ? (record) => confirmSend(record, flags.yes) : undefined,
      wait: flags.wait
        ? { timeoutMs, onEvent: (event) => json || this.out.data(eventLine(event, this.out.paint)) }
        : undefined,
    })
    if (!json) renderSend(this.out, result)
    return result
  }
}
