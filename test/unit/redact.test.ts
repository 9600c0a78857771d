import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { redact } from '../../src/redact.js'

describe('redact', () => {
  it('removes the user info of every URL in a text', () => {
    assert.equal(
      redact('schema registry http://ops:s3cret@registry:8081/ and https://TOKEN@r2/x, postgres://a:b@db/x'),
      'schema registry http://***@registry:8081/ and https://***@r2/x, postgres://***@db/x',
    )
    assert.equal(redact('http://registry:8081/subjects/a@b'), 'http://registry:8081/subjects/a@b')
  })
})
