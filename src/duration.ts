/**
 * The one duration grammar of `es`: flags (`--timeout`), config values (`connectionTimeout`) and
 * offsets (`--from 1h30m`, a duration ago) all parse durations here.
 *
 *   duration: one or more <number><unit>, largest unit first or not: 500ms, 10s, 1.5s, 2m, 1h30m, 1d, 2w
 *   number:   digits, optionally with a decimal part (1.5h); no sign, no exponent
 *   unit:     ms | s | m | h | d | w (case-insensitive)
 *
 * A bare number has no unit and is not a duration in text (`--timeout 10` is refused: 10 what?);
 * a config value written as a number (`requestTimeout: 2500`) is milliseconds.
 */

const units: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const component = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g
const whole = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/

/** What a duration looks like, for error messages. */
export const durationForms =
  '<number><unit> with units ms, s, m, h, d, w, combined and with decimals (500ms, 10s, 1.5h, 1h30m, 2d)'

/** Text → milliseconds (rounded), or undefined when it is not a duration of this grammar. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim().toLowerCase()
  if (!whole.test(value)) return undefined
  let total = 0
  for (const [, amount, unit] of value.matchAll(component)) total += Number(amount) * units[unit]
  const ms = Math.round(total)
  return Number.isSafeInteger(ms) ? ms : undefined
}
