/**
 * A one-line progress display on stderr: records done of the total fixed at start, rate and ETA.
 * Only drawn when stderr is a terminal and never under --json; warnings printed through
 * `Progress.interrupt` clear the line first, so nothing is hidden behind it.
 */
import type { Output } from './output.js'

export interface ProgressState {
  done: number
  total: number
  elapsedMs: number
  /** Records read but not folded yet (a fold in rounds reads a round ahead). */
  pending?: number
}

export interface Progress {
  update(state: ProgressState): void
  /** Prints a line above the progress display. */
  interrupt(line: string): void
  finish(): void
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1_000_000) return `${(perSecond / 1_000_000).toFixed(2)}M/s`
  if (perSecond >= 1_000) return `${(perSecond / 1_000).toFixed(1)}k/s`
  return `${Math.round(perSecond)}/s`
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const seconds = ms / 1000
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  const minutes = Math.floor(seconds / 60)
  return `${minutes}m${Math.round(seconds % 60)
    .toString()
    .padStart(2, '0')}s`
}

export function progressLine(state: ProgressState, label = 'records'): string {
  const rate = state.elapsedMs > 0 ? (state.done * 1000) / state.elapsedMs : 0
  const percent = state.total > 0 ? Math.min(100, (state.done / state.total) * 100) : 100
  const remaining = Math.max(0, state.total - state.done)
  const eta = rate > 0 ? formatDuration((remaining / rate) * 1000) : '?'
  const ahead = state.pending ? `  ${state.pending.toLocaleString('en-US')} read ahead (folding in rounds)` : ''
  return `${percent.toFixed(1).padStart(5)}%  ${state.done.toLocaleString('en-US')}/${state.total.toLocaleString('en-US')} ${label}  ${formatRate(rate)}  ETA ${eta}${ahead}`
}

export function createProgress(output: Output, label = 'records'): Progress {
  if (!output.progressEnabled) {
    return { update: () => {}, interrupt: (line) => process.stderr.write(`${line}\n`), finish: () => {} }
  }
  let drawn = false
  const clear = () => {
    if (drawn) process.stderr.write('\r\x1b[2K')
    drawn = false
  }
  return {
    update(state) {
      clear()
      process.stderr.write(output.paint.dim(progressLine(state, label)))
      drawn = true
    },
    interrupt(line) {
      clear()
      process.stderr.write(`${line}\n`)
    },
    finish: clear,
  }
}
