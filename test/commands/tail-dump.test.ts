/**
 * Whole-topic dumps (the whole-topics issue): `es tail -e` to a file streams with bounded memory,
 * and its output, gathered into large writes, is every record once, in order, byte for byte what
 * kcat reads — a range of ~100 MB dumped by an es whose heap is limited to 64 MB.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { esBin } from '../support/cli.js'
import { createTopic, testBrokers, uniqueTopic } from '../support/kafka.js'
import { tempDir } from '../support/temp-dir.js'

const brokers = testBrokers()
const RECORDS = 250_000

function sh(command: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk)
  return hash.digest('hex')
}

describe('es tail -e dumping a whole topic', () => {
  let dir: string
  let topic: string

  before(async () => {
    dir = await tempDir('es-dump-')
    topic = uniqueTopic('dump')
    await createTopic(topic, 1)
    // ~400 bytes a record, values with multi-byte text, written by kcat.
    const pad = 'é€'.repeat(120)
    const lines = Array.from(
      { length: RECORDS },
      (_, i) => `acc-${i % 5000}:{"type":"Deposited","n":${i},"amount":${(i % 97) + 0.5},"note":"${pad}"}`,
    )
    const input = join(dir, 'records.txt')
    await writeFile(input, `${lines.join('\n')}\n`)
    const produced = await sh(`kcat -P -b ${brokers} -t ${topic} -K: -l ${input}`)
    assert.equal(produced.code, 0, produced.stderr)
  })

  it('writes every value once, in order, as kcat reads them, with a 64 MB heap', async () => {
    const kcatOut = join(dir, 'kcat.raw')
    const esOut = join(dir, 'es.raw')
    const kcat = await sh(`kcat -C -b ${brokers} -t ${topic} -o beginning -e -q > ${kcatOut}`)
    assert.equal(kcat.code, 0, kcat.stderr)
    const es = await sh(
      `"${process.execPath}" --max-old-space-size=64 "${esBin}" tail ${topic} --brokers ${brokers} -e -o raw > ${esOut}`,
    )
    assert.equal(es.code, 0, es.stderr)
    assert.match(es.stderr, new RegExp(`^${RECORDS} of ${RECORDS} records shown; complete`, 'm'))
    assert.equal(await sha256(esOut), await sha256(kcatOut))
  })

  it('ndjson through a pipe: one line per record, in offset order, nothing lost or repeated', async () => {
    const out = join(dir, 'es.ndjson')
    const es = await sh(
      `"${process.execPath}" --max-old-space-size=64 "${esBin}" tail ${topic} --brokers ${brokers} -e -o ndjson | cat > ${out}`,
    )
    assert.equal(es.code, 0, es.stderr)
    let expected = 0
    let rest = ''
    for await (const chunk of createReadStream(out, { encoding: 'utf8' })) {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        const record = JSON.parse(line) as { offset: number; key: string; value: { n: number } }
        assert.equal(record.offset, expected)
        assert.equal(record.value.n, expected)
        assert.equal(record.key, `acc-${expected % 5000}`)
        expected++
      }
    }
    assert.equal(rest, '')
    assert.equal(expected, RECORDS)
  })
})
