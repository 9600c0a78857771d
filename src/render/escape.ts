/**
 * Terminal safety for text meant for people: every control character (C0, DEL, C1) becomes a
 * visible escape, so a record can neither send the terminal a command (ESC sequences, bell,
 * a CR that overwrites the line) nor span lines. `\n`, `\r` and `\t` read as themselves; any
 * other is `\xNN` (C1 too: `\x9b`). Printable text, other Unicode included, is unchanged. JSON
 * output needs none of this: JSON.stringify already escapes what it must.
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

export function escapeControl(text: string): string {
  CONTROL.lastIndex = 0
  if (!CONTROL.test(text)) return text
  return text.replace(CONTROL, (char) => NAMED[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
