/**
 * A long-running process under test (e.g. the bank service's command handler): started as a
 * child, ready when a line on stderr says so, stopped with SIGTERM. Its stderr is kept for
 * assertions and failure messages.
 */
import { type ChildProcess, spawn } from 'node:child_process'

export class ServiceProcess {
  stderr = ''
  stdout = ''
  readonly exited: Promise<number | null>
  private exitCode: number | null | undefined

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stderr?.on('data', (chunk) => {
      this.stderr += chunk
    })
    child.stdout?.on('data', (chunk) => {
      this.stdout += chunk
    })
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null)
        resolve(this.exitCode)
      })
    })
  }

  /** Starts `node script args…` and waits (bounded) until stderr matches `ready`. */
  static async start(
    name: string,
    script: string,
    args: string[],
    options: { ready: RegExp; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<ServiceProcess> {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const service = new ServiceProcess(name, child)
    const deadline = Date.now() + (options.timeoutMs ?? 60_000)
    while (!options.ready.test(service.stderr)) {
      if (service.exitCode !== undefined) {
        throw new Error(`${name} exited with ${service.exitCode} before it was ready:\n${service.stderr}`)
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`${name} was not ready within ${options.timeoutMs ?? 60_000} ms:\n${service.stderr}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return service
  }

  get running(): boolean {
    return this.exitCode === undefined
  }

  /** SIGTERM, then the exit code (SIGKILL and an error if it does not exit in time). */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.exited
    this.child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const result = await Promise.race([this.exited, timeout])
    clearTimeout(timer)
    if (result === 'timeout') {
      this.child.kill('SIGKILL')
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms of SIGTERM:\n${this.stderr}`)
    }
    return result
  }
}
