import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { codecFlags, timeoutFlag, writeFlags } from '../src/cli/flags.js'
import { UsageError } from '../src/errors.js'
import { confirm } from '../src/prompts/confirm.js'
import { promptPayload, requireTerminal } from '../src/prompts/schema-prompts.js'
import { formatRecord } from '../src/render/records.js'
import { readPayload } from '../src/send/payload.js'
import { type SendResult, sendCommand } from '../src/send/send-command.js'

export default class SendCommand extends EsCommand<SendResult> {
  static override summary =
    'Send a command: validated, encoded as the service expects, idempotent; optionally wait for its events.'
  static override description =
    `The payload comes from --data, --data-file <path|-> (- is stdin) or --interactive prompts built from the command's JSON Schema. Nothing is produced unless the payload is valid. The command id (--id, default a new UUID) travels in the envelope: send again with the same --id to retry idempotently.
With --wait, es fixes the end of the events stream before producing, then shows the events whose causation (or correlation) id is the command id: exit 0 when accepted, 1 when an event is a rejection (the service's "rejections"), 4 when nothing arrives within --timeout.
Without a config, --topic and --brokers send {"id","type","timestamp","data"} JSON, keyed by --key.`
  static override examples = [
    `<%= config.bin %> send-command DepositFunds --key acc-42 --data '{"amount":10}' --expected-version 3 --wait`,
    '<%= config.bin %> send-command OpenAccount --key acc-43 --interactive',
    '<%= config.bin %> send-command WithdrawFunds --key acc-42 --data-file withdraw.json --dry-run',
    `echo '{"amount":5}' | <%= config.bin %> send-command DepositFunds --key acc-42 --data-file - --id 0b6d…  # a retry`,
    `<%= config.bin %> send-command Ping --topic tests.commands --brokers localhost:9092 --key k1 --data '{}'`,
  ]
  static override enableJsonFlag = true
  static override args = {
    type: Args.string({ description: 'Command type (see the service config).', required: true }),
  }
  static override flags = {
    ...codecFlags,
    data: Flags.string({ char: 'd', summary: 'The payload as JSON text.', exclusive: ['data-file'] }),
    'data-file': Flags.string({ summary: 'Read the payload from a file, or - for stdin.' }),
    interactive: Flags.boolean({
      char: 'i',
      summary: "Ask for each field of the command's JSON Schema.",
      exclusive: ['data', 'data-file'],
    }),
    key: Flags.string({ char: 'k', summary: 'Record key (the aggregate id for most services).' }),
    header: Flags.string({
      char: 'H',
      summary: 'A record header k=v (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'expected-version': Flags.integer({
      summary: 'The aggregate version the command expects (optimistic concurrency).',
      min: 0,
    }),
    id: Flags.string({ summary: 'Command id (default: a new UUID); reuse it to retry idempotently.' }),
    'dry-run': Flags.boolean({ summary: 'Print the exact record (key, headers, value) and produce nothing.' }),
    wait: Flags.boolean({ char: 'w', summary: 'Wait for the events the command caused and judge the outcome.' }),
    timeout: timeoutFlag({ default: 10_000, summary: 'With --wait: how long to wait for events (500ms, 10s, 2m).' }),
    topic: Flags.string({
      char: 't',
      summary: 'Topic to send to (zero-config use, or another commands topic).',
      multiple: false,
    }),
    ...writeFlags,
  }

  async run(): Promise<SendResult> {
    const { args, flags } = await this.parse(SendCommand)
    const headers = parseHeaders(flags.header ?? [])
    if (flags.interactive) {
      if (this.jsonEnabled()) throw new UsageError('--interactive and --json exclude each other', { code: 'USAGE' })
      requireTerminal()
    }
    if (!flags['dry-run']) await this.guardWrite(`send ${args.type}`, flags)
    const payload = flags.interactive
      ? (schema: object | undefined) => promptPayload(schema)
      : await readPayload({ data: flags.data, dataFile: flags['data-file'], readStdin })
    const result = await sendCommand({
      config: await this.settings(),
      service: this.serviceFlag,
      type: args.type,
      payload,
      id: flags.id,
      key: flags.key,
      headers,
      expectedVersion: flags['expected-version'],
      topic: flags.topic,
      dryRun: flags['dry-run'],
      confirm: flags.interactive
        ? (record) =>
            confirm({
              summary: `topic ${record.topic}\nkey ${record.key}\nheaders ${JSON.stringify(record.headers)}\nvalue ${record.value}`,
              question: 'Send this command?',
              action: 'sending a command',
              byDefault: true,
              yes: flags.yes,
            })
        : undefined,
      wait: flags.wait
        ? {
            timeoutMs: flags.timeout ?? 10_000,
            onEvent: (event) => {
              if (this.jsonEnabled()) return
              this.out.data(
                formatRecord(
                  { ...event, value: event.payload, key: event.key, headers: Object.entries(event.headers) },
                  'pretty',
                  this.out.paint,
                ),
              )
            },
          }
        : undefined,
      runtime: { debug: (line) => this.out.debug(line) },
    })
    if (!this.jsonEnabled()) this.display(result)
    if (result.outcome === 'rejected') process.exitCode = 1
    return result
  }

  private display(result: SendResult): void {
    const { paint } = this.out
    if (result.dryRun) {
      this.out.data(JSON.stringify(result.record, null, 2))
      this.out.info(`dry run: nothing was produced (command id ${result.commandId})`)
      return
    }
    if (result.cancelled) {
      this.out.info('cancelled: nothing was produced')
      return
    }
    this.out.info(
      `${paint.green('sent')} ${result.type} ${result.commandId} to ${result.record.topic}/${result.partition}@${result.offset} key ${result.record.key ?? '(none)'}`,
    )
    if (result.outcome) {
      this.out.info(
        result.outcome === 'accepted'
          ? paint.green(`accepted: ${result.events?.length} event(s)`)
          : paint.red(`rejected: ${result.events?.map((e) => e.type).join(', ')}`),
      )
    }
  }
}

function parseHeaders(pairs: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--header "${pair}" is not k=v`, { code: 'USAGE' })
    headers[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return headers
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
