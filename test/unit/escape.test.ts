import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { escapeControl } from '../../src/render/escape.js'

describe('escapeControl', () => {
  it('escapes every C0 control, DEL and C1 control, and nothing else', () => {
    for (let code = 0; code <= 0xa0; code++) {
      const char = String.fromCharCode(code)
      const escaped = escapeControl(`a${char}b`)
      const control = code < 0x20 || (code >= 0x7f && code <= 0x9f)
      if (control) {
        assert.doesNotMatch(escaped, /[\u0000-\u001f\u007f-\u009f]/, `U+${code.toString(16)}`)
        assert.match(escaped, /^a\\(x[0-9a-f]{2}|n|r|t)b$/, `U+${code.toString(16)}: ${escaped}`)
      } else {
        assert.equal(escaped, `a${char}b`, `U+${code.toString(16)} unchanged`)
      }
    }
  })

  it('writes ESC, CR, LF, TAB, BEL, DEL and CSI readably; other Unicode is kept', () => {
    assert.equal(escapeControl('\u001b[2J\r\n\t\u0007\u007f\u009b'), '\\x1b[2J\\r\\n\\t\\x07\\x7f\\x9b')
    assert.equal(escapeControl('été – 東京 👋'), 'été – 東京 👋')
    assert.equal(escapeControl(''), '')
  })
})
