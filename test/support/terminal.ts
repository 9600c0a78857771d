/**
 * A real terminal for tests of interactive commands: the program runs in a tmux pane (its own
 * tmux server per terminal, on a socket in the terminal's temporary directory, so tests never
 * share one), keys are sent with `send-keys` and the
 * screen is read with `capture-pane`. stdout is redirected to a file, so what the program prints
 * as data stays apart from the prompts it draws on the terminal (stderr).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { waitFor } from './poll.js'

const execFileAsync = promisify(execFile)

/** Quotes one word for sh. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

export class Terminal {
  private constructor(
    private readonly socket: string,
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Runs `command` (argv) in a new 200×50 tmux pane. The pane stays when the program exits
   * (`remain-on-exit`), so its last screen can still be read.
   */
  static async start(command: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Terminal> {
    const dir = await mkdtemp(join(tmpdir(), 'es-terminal-'))
    const socket = join(dir, 'tmux.sock')
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env, TMUX: undefined }
    const terminal = new Terminal(socket, dir, env)
    const conf = join(dir, 'tmux.conf')
    await writeFile(conf, 'set -g remain-on-exit on\nset -g status off\nset -g history-limit 5000\n')
    const script = `${command.map(shellQuote).join(' ')} > ${shellQuote(terminal.stdoutFile)}; echo $? > ${shellQuote(terminal.statusFile)}`
    const session = ['new-session', '-d', '-x', '200', '-y', '50', '-s', 'es', '-c', options.cwd ?? dir]
    try {
      await execFileAsync('tmux', ['-S', socket, '-f', conf, ...session, 'sh', '-c', script], { env })
    } catch (error) {
      await rm(dir, { recursive: true, force: true })
      throw error
    }
    return terminal
  }

  get stdoutFile(): string {
    return join(this.dir, 'stdout')
  }

  /** The exit status, written by the shell when the program has exited (128 + n: killed by signal n). */
  private get statusFile(): string {
    return join(this.dir, 'status')
  }

  private async tmux(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync('tmux', ['-S', this.socket, ...args], { env: this.env })
    return stdout
  }

  /** Types `text` literally (no key names). */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', 'es', '-l', text)
  }

  /** Presses keys by tmux name: `Enter`, `Down`, `BSpace`, `C-u`… */
  async press(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'es', ...keys)
  }

  /** The visible screen as text. */
  async screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'es')
  }

  /** Waits (bounded) until the screen matches `pattern`; returns the screen. */
  async waitForScreen(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    return waitFor(
      `the terminal to show ${pattern}`,
      () => this.screen(),
      (screen) => pattern.test(screen),
      {
        timeoutMs,
        intervalMs: 100,
      },
    )
  }

  /** Waits (bounded) until the program has exited; returns its exit status, stdout and last screen. */
  async exited(timeoutMs = 60_000): Promise<{ code: number; stdout: string; screen: string }> {
    // The shell writes the status: tmux's own #{pane_dead_status} is sometimes never set (tmux 3.3a).
    const status = await waitFor(
      'the program in the terminal to exit',
      () => readFile(this.statusFile, 'utf8').catch(() => ''),
      (text) => text.endsWith('\n'),
      { timeoutMs, intervalMs: 100 },
    )
    // The pty closes once tmux has read everything the program wrote: the screen is complete then.
    await waitFor(
      'the terminal to close',
      () => this.tmux('display-message', '-p', '-t', 'es', '#{pane_dead}'),
      (dead) => dead.trim() === '1',
      { timeoutMs: 10_000, intervalMs: 50 },
    )
    return {
      code: Number(status),
      stdout: await readFile(this.stdoutFile, 'utf8'),
      screen: await this.screen(),
    }
  }

  /** Kills the tmux server (and the program, if still running) and removes the temporary files. */
  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => {})
    await rm(this.dir, { recursive: true, force: true })
  }
}
