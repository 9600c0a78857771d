/**
 * Bounded polling: waits for a condition on a system under test without fixed sleeps. A timeout
 * fails with the last value seen, so the failure says what was there instead.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  let last: T | undefined
  let lastError: unknown
  for (;;) {
    try {
      last = await probe()
      lastError = undefined
      if (done(last)) return last
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      const seen = lastError !== undefined ? `error ${String(lastError)}` : JSON.stringify(last)?.slice(0, 2000)
      throw new Error(`timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${what}; last seen: ${seen}`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250))
  }
}
