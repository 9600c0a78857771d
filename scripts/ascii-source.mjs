// JavaScript source in ASCII only: each other UTF-16 code unit written as its \uXXXX escape, which
// means the same in strings, templates, regular expressions and identifiers (and is only text in
// comments). Node.js holds an ASCII file as a one-byte string: read and compiled faster than the
// two-byte string one non-ASCII character in a comment makes of a whole bundle (src/bundled-modules.ts).
export function asciiSource(code) {
  return code.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
