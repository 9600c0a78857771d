/**
 * The sample bank service's load generator (examples/bank/loadgen.ts) as a test helper: valid
 * account event streams, written to the real broker by kafkajs in bulk.
 */
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kcatProduce } from './kcat.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')

/** Runs the load generator with `args` (`--brokers`, `--events`, `--accounts`, `--topic`, …). */
export function loadgen(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'dist/examples/bank/loadgen.js'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`loadgen exited ${code}: ${stderr}`))))
  })
}

/** `acc-00000042`: the id of opened account `index` (sorts like its index). */
export function openedAccountId(index: number): string {
  return `acc-${String(index).padStart(8, '0')}`
}

/**
 * Accounts `first` … `first + count - 1` opened, one AccountOpened event each (so aggregates =
 * events), in the sample bank's wire format, written by kcat (librdkafka), key = account id.
 */
export async function produceOpenedAccounts(brokers: string, topic: string, count: number, first = 0): Promise<void> {
  const chunk = 200_000
  for (let start = first; start < first + count; start += chunk) {
    const records: Array<[string, string]> = []
    for (let a = start; a < Math.min(first + count, start + chunk); a++) {
      const id = openedAccountId(a)
      records.push([
        id,
        `{"id":"e-${a}","type":"AccountOpened","causationId":"c-${a}","version":1,"timestamp":"2026-01-01T00:00:00.000Z","data":{"accountId":"${id}","owner":"owner ${a}"}}`,
      ])
    }
    await kcatProduce(brokers, topic, records)
  }
}

/**
 * Writes an es config at `file` for the load generator's events on `topic` (service `bank`, the
 * sample reducer as projection `accounts`, with `readModel` as YAML flow text when given).
 */
export async function writeLoadgenConfig(file: string, brokers: string, topic: string, readModel?: string) {
  const reducer = join(root, 'examples/bank/reducer.js')
  await writeFile(
    file,
    [
      `brokers: ${brokers}`,
      'services:',
      '  bank:',
      `    streams: { events: ${topic} }`,
      '    envelope: { type: $.type, id: $.id, causationId: $.causationId, aggregateId: key, version: $.version, timestamp: $.timestamp, payload: $.data }',
      '    projections:',
      `      accounts: { reducer: ${reducer}${readModel === undefined ? '' : `, readModel: ${readModel}`} }`,
      '',
    ].join('\n'),
  )
}
