/**
 * The base of every `es` command: global flags, lazily resolved configuration, and the one place
 * where errors become an exit code, a one-line message on stderr and, under `--json`, an
 * `{"error":{…}}` document on stdout.
 */
import { Command, Flags, type Interfaces } from '@oclif/core'
import { loadConfig } from '../config/load.js'
import type { ResolvedConfig } from '../config/types.js'
import { EsError, ExitCode, InternalError, UsageError } from '../errors.js'
import { createOutput, type Output } from '../render/output.js'
import { applyCodecFlags, type CodecFlagValues } from './flags.js'

// biome-ignore lint/suspicious/noExplicitAny: mirrors oclif's own FlagOutput/ArgOutput, which it does not export
type FlagOutput = { [name: string]: any }
// biome-ignore lint/suspicious/noExplicitAny: as above
type ArgOutput = { [name: string]: any }

export type GlobalFlags = Interfaces.InferredFlags<(typeof EsCommand)['baseFlags']>

export abstract class EsCommand<Result> extends Command {
  static override baseFlags = {
    config: Flags.string({
      summary: 'Config file (default ./es.config.{json,yaml,yml,js,mjs} if present).',
      env: 'ES_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    brokers: Flags.string({
      summary: 'Kafka bootstrap brokers, host:port[,host:port…].',
      env: 'ES_BROKERS',
      helpGroup: 'GLOBAL',
    }),
    service: Flags.string({
      summary: 'Service to operate, when the config defines several.',
      env: 'ES_SERVICE',
      helpGroup: 'GLOBAL',
    }),
    color: Flags.boolean({
      summary: 'Colour output (--no-color or NO_COLOR turns it off; off when stdout is not a terminal).',
      allowNo: true,
      default: true,
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({
      summary: 'Diagnostics on stderr (secrets redacted); stack traces on errors.',
      default: false,
      helpGroup: 'GLOBAL',
    }),
  }

  /** What the command returns is its `--json` contract. */
  abstract override run(): Promise<Result>

  private globalFlags?: GlobalFlags
  private resolvedConfig?: ResolvedConfig
  private cachedOutput?: Output

  /** oclif's parse, recording the global flags so that config and output are resolved once. */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv)
    this.globalFlags = parsed.flags as unknown as GlobalFlags
    return parsed
  }

  /** The resolved configuration (config file, environment, global flags), loaded once. */
  protected async settings(): Promise<ResolvedConfig> {
    this.resolvedConfig ??= applyCodecFlags(
      await loadConfig({
        configPath: this.globalFlags?.config,
        brokers: this.globalFlags?.brokers,
        cwd: process.cwd(),
        env: process.env,
      }),
      this.globalFlags?.service,
      // The codec flags (src/cli/flags.ts) of commands that read or write a topic.
      this.globalFlags as unknown as CodecFlagValues,
    )
    return this.resolvedConfig
  }

  /** The service name chosen by `--service`, if any. */
  protected get serviceFlag(): string | undefined {
    return this.globalFlags?.service
  }

  /** stdout/stderr writers with colour decided once (flag, NO_COLOR, TTY). */
  protected get out(): Output {
    this.cachedOutput ??= createOutput({
      color: this.globalFlags?.color ?? true,
      verbose: this.globalFlags?.verbose ?? false,
      json: this.jsonEnabled(),
    })
    return this.cachedOutput
  }

  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<void> {
    // `this.exit(n)` throws an ExitError that oclif must see.
    if (error.oclif?.exit !== undefined && error.constructor.name === 'ExitError') throw error
    const esError = toEsError(error)
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({ error: esError.toJSON() })}\n`)
    }
    const suggestion = esError.suggestion ? ` (${esError.suggestion})` : ''
    process.stderr.write(`${this.out.errorLabel('error')} ${esError.message}${suggestion}\n`)
    if (this.globalFlags?.verbose || process.argv.includes('--verbose')) {
      process.stderr.write(`${error.stack ?? String(error)}\n`)
    }
    process.exitCode = esError.exitCode
  }
}

/** Maps anything thrown to an EsError: ours as they are, oclif's parse errors to usage (exit 2). */
export function toEsError(error: unknown): EsError {
  if (error instanceof EsError) {
    // oclif rewrites the message of an error thrown by a flag's parse (--from, --where…) into
    // "Parsing --flag \n\t<message>\nSee more help with --help": back to the one-line message.
    const wrapped = /^Parsing --\S+ \n\t(.*)\nSee more help with --help$/s.exec(error.message)
    if (wrapped) error.message = wrapped[1]
    return error
  }
  const e = error as Error & { oclif?: { exit?: number }; code?: string }
  if (
    e?.oclif?.exit === ExitCode.usage ||
    /^(Nonexistent flag|Unexpected argument|Expected|Missing required|Parsing --|The following error)/.test(
      e?.message ?? '',
    )
  ) {
    // oclif's parse errors span lines ("The following error occurred:", the error, "See more help…").
    const message =
      (e.message ?? String(e))
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !/^The following errors? occurred:?$/.test(line) && !/^See more help/.test(line))
        .join('; ') || 'invalid usage'
    return new UsageError(message, { code: 'USAGE', suggestion: 'see --help' })
  }
  return new InternalError(`internal error: ${e?.message ?? String(error)}`, {
    code: 'INTERNAL',
    suggestion: 'this is a bug: please report it with the --verbose output',
    cause: error,
  })
}
