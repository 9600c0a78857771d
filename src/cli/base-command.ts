/**
 * The base of every `es` command: global flags, lazily resolved configuration, and the one place
 * where errors become an exit code, a one-line message on stderr and, under `--json`, an
 * `{"error":{…}}` document on stdout.
 */
import { Command, Flags, type Interfaces } from '@oclif/core'
import { loadConfig } from '../config/load.js'
import { readOnlyRefusal } from '../config/profiles.js'
import type { ResolvedConfig } from '../config/types.js'
import {
  CancelledError,
  ConfigError,
  EsError,
  ExitCode,
  fileSystemFailure,
  InternalError,
  InterruptedError,
} from '../errors.js'
import { confirm } from '../prompts/confirm.js'
import { escapeControl } from '../render/escape.js'
import { createOutput, type Output } from '../render/output.js'
import { createProgress, type ProgressState } from '../render/progress.js'
import { applyCodecFlags, type CodecFlagValues } from './flags.js'
import { usageFromParse } from './parse-errors.js'

// biome-ignore lint/suspicious/noExplicitAny: mirrors oclif's own FlagOutput/ArgOutput, which it does not export
type FlagOutput = { [name: string]: any }
// biome-ignore lint/suspicious/noExplicitAny: as above
type ArgOutput = { [name: string]: any }

export type GlobalFlags = Interfaces.InferredFlags<(typeof EsCommand)['baseFlags']>

export abstract class EsCommand<Result> extends Command {
  static override baseFlags = {
    profile: Flags.string({
      summary: "The config's profile (cluster) to use (env ES_PROFILE; default the config's defaultProfile).",
      helpGroup: 'GLOBAL',
    }),
    config: Flags.string({
      summary: 'Config file (default ./es.config.{json,yaml,yml,js,mjs} if present).',
      env: 'ES_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    // ES_BROKERS and ES_PROFILE are read by the config loader, which names where a setting came from.
    brokers: Flags.string({
      char: 'b',
      summary: 'Kafka bootstrap brokers, host:port[,host:port…] (env ES_BROKERS).',
      helpGroup: 'GLOBAL',
    }),
    'client-setting': Flags.string({
      char: 'X',
      summary: 'A Kafka client setting key=value, as kcat -X (security.protocol, sasl.*, ssl.*.location, client.id…).',
      multiple: true,
      multipleNonGreedy: true,
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
    quiet: Flags.boolean({
      summary: 'No warnings about risky configuration (the config can say warnings: false).',
      default: false,
      helpGroup: 'GLOBAL',
    }),
  }

  /** What the command returns is its `--json` contract. */
  abstract override run(): Promise<Result>

  /**
   * Commands whose result can be "no" (drift found, a command rejected, an unsafe checkpoint)
   * declare it here: the command then exits 1, with its result printed as usual (SPEC: exit 1).
   */
  // biome-ignore lint/suspicious/noExplicitAny: each command declares it for its own result type
  static answersNo?: (result: any) => boolean

  /** oclif's run, then the exit code of a "no" (see `answersNo`). */
  override async _run<T>(): Promise<T> {
    const result = await super._run<T>()
    const answersNo = (this.constructor as typeof EsCommand).answersNo
    if (result !== undefined && process.exitCode === undefined && answersNo?.(result)) process.exitCode = ExitCode.no
    return result
  }

  private globalFlags?: GlobalFlags
  private resolvedConfig?: ResolvedConfig
  private cachedOutput?: Output

  private interruptHandled = false

  /** Ctrl-C ends a command with exit 130, quietly, unless it handles interruptions itself. */
  override async init(): Promise<void> {
    await super.init()
    process.on('SIGINT', () => {
      if (this.interruptHandled) {
        this.interruptHandled = false // a second Ctrl-C does not wait
        return
      }
      process.exit(130)
    })
  }

  /**
   * A signal aborted at the first Ctrl-C or SIGTERM, for a command that ends cleanly on its own
   * terms (a follow ends with exit 0, as kcat's does); a second Ctrl-C exits 130 at once.
   */
  protected interruption(): { signal: AbortSignal; release: () => void } {
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    this.interruptHandled = true
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    return {
      signal: stop.signal,
      release: () => {
        this.interruptHandled = false
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      },
    }
  }

  /** oclif's parse, recording the global flags so that config and output are resolved once. */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    let parsed: Interfaces.ParserOutput<F, B, A>
    try {
      parsed = await super.parse(options, argv)
    } catch (error) {
      throw usageFromParse(error, (this.id ?? '').replace(/:/g, ' '))
    }
    this.globalFlags = parsed.flags as unknown as GlobalFlags
    return parsed
  }

  /** Whether `es profiles` and the like say which profile is in use themselves. */
  protected showsProfile = false

  /**
   * The resolved configuration (config file, environment, global flags), loaded once; its warnings
   * about risky settings go to stderr then (unless --quiet silences them).
   */
  protected async settings(): Promise<ResolvedConfig> {
    if (!this.resolvedConfig) {
      this.resolvedConfig = await loadConfig({
        configPath: this.globalFlags?.config,
        brokers: this.globalFlags?.brokers,
        profile: this.globalFlags?.profile,
        clientSettings: this.globalFlags?.['client-setting'],
        cwd: process.cwd(),
        env: process.env,
      })
      // The codec flags (src/cli/flags.ts) of commands that read or write a topic.
      this.resolvedConfig = applyCodecFlags(
        this.resolvedConfig,
        this.globalFlags?.service,
        this.globalFlags as unknown as CodecFlagValues,
      )
      const profile = this.resolvedConfig.profile
      // Nobody writes to production by accident: a profile other than the default says so.
      if (profile && profile.chosenBy !== 'default' && !profile.isDefault && !this.showsProfile) {
        const why = profile.chosenBy === 'flag' ? '--profile' : 'ES_PROFILE'
        // Also under --json: stdout stays the document, and the line is on stderr.
        process.stderr.write(`profile ${profile.name} (${why}${profile.readOnly ? ', read-only' : ''})\n`)
      }
      for (const warning of this.resolvedConfig.riskWarnings ?? []) {
        if (!(warning.silenceable && this.globalFlags?.quiet)) this.out.warn(warning.message)
      }
    }
    return this.resolvedConfig
  }

  /**
   * The one check before every write (send-command, rebuild-projection, a checkpoints reset,
   * --handoff-group, produce): under a read-only profile it refuses (exit 3) unless --allow-write,
   * and then asks on a terminal, naming the profile (--yes answers it in scripts).
   */
  protected async guardWrite(action: string, flags: { 'allow-write'?: boolean; yes?: boolean }): Promise<void> {
    const config = await this.settings()
    const refusal = readOnlyRefusal(config, action)
    if (!refusal) return
    if (!flags['allow-write']) throw refusal
    const profile = config.profile!.name
    const confirmed = await confirm({
      question: `Profile ${profile} is read-only. ${action[0].toUpperCase()}${action.slice(1)} anyway?`,
      action: `writing under the read-only profile ${profile}`,
      yes: flags.yes,
      json: this.jsonEnabled(),
    })
    if (!confirmed) throw new CancelledError('cancelled: nothing was changed', { code: 'CANCELLED' })
  }

  /**
   * What a long-running core function reports to: a progress line on stderr (a terminal only),
   * warnings drawn above it, `--verbose` diagnostics; `finish` clears the line.
   */
  protected reporting(unit: string) {
    const progress = createProgress(this.out, unit)
    return {
      onProgress: (p: ProgressState) => progress.update(p),
      onWarning: (message: string) => progress.interrupt(`${this.out.paint.yellow('warning')} ${message}`),
      runtime: { debug: (line: string) => this.out.debug(line) },
      finish: () => progress.finish(),
    }
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
    if (esError instanceof InterruptedError) {
      process.exitCode = esError.exitCode // Ctrl-C at a prompt: quietly
      return
    }
    if (esError instanceof CancelledError) {
      process.stderr.write(`${esError.message}\n`)
      process.exitCode = esError.exitCode
      return
    }
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({ error: esError.toJSON() })}\n`)
    }
    // One line, and one the terminal only displays: a topic name or key quoted in the message
    // cannot carry an escape sequence or a line break to it.
    const suggestion = esError.suggestion ? ` (${escapeControl(esError.suggestion)})` : ''
    process.stderr.write(`${this.out.errorLabel('error')} ${escapeControl(esError.message)}${suggestion}\n`)
    if (this.globalFlags?.verbose || process.argv.includes('--verbose')) {
      process.stderr.write(`${error.stack ?? String(error)}\n`)
    }
    process.exitCode = esError.exitCode
  }
}

/** Maps anything thrown to an EsError: ours as they are, anything else is a bug (exit 70). */
export function toEsError(error: unknown): EsError {
  if (error instanceof EsError) return error
  const e = error as Error | undefined
  // A file system that refused a write (disk full, read-only…) is the machine's state, not a bug.
  const refused = fileSystemFailure(error)
  if (refused !== undefined) {
    return new ConfigError(`${refused}: ${e?.message ?? String(error)}`, {
      code: 'FILE_SYSTEM',
      cause: error,
    })
  }
  return new InternalError(`internal error: ${e?.message ?? String(error)}`, {
    code: 'INTERNAL',
    suggestion: 'this is a bug: please report it with the --verbose output',
    cause: error,
  })
}
