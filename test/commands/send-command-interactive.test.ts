/**
 * `es send-command --interactive` driven like a user would: the real binary in a real terminal
 * (a tmux pane), keys typed with send-keys, the prompts read with capture-pane, against the sample
 * bank service on the real broker. What arrived on the commands topic is read back with kcat.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { type RunningBank, repoRoot, startBank, writeConfigCopy } from '../support/bank-service.js'
import { esBin, runEs } from '../support/cli.js'
import { endOffsets, testBrokers, uniqueTopic } from '../support/kafka.js'
import { type KcatRecord, kcatConsume } from '../support/kcat.js'
import { Terminal } from '../support/terminal.js'

const cleanEnv = { ES_CONFIG: undefined, ES_BROKERS: undefined }

/** A JSON document read back; the assertions check its fields. */
type Doc = Record<string, unknown>

function payloadOf(record: KcatRecord): Doc {
  return JSON.parse(record.payload ?? 'null')
}

/** The command id es reports on the terminal: `sent <type> <id> to …`. */
function sentId(screen: string): string {
  const match = /^sent \S+ (\S+) to /m.exec(screen)
  assert.ok(match, `a "sent …" line on the terminal:\n${screen}`)
  return match[1]
}

describe('es send-command --interactive in a terminal (tmux), against the sample bank service', () => {
  const brokers = testBrokers()
  let bank: RunningBank
  let terminal: Terminal | undefined

  /** `es send-command <args> --interactive` in a new terminal. */
  async function interactive(args: string[]): Promise<Terminal> {
    terminal = await Terminal.start(
      [process.execPath, esBin, 'send-command', ...args, '--interactive', '--config', bank.configFile],
      { env: cleanEnv },
    )
    return terminal
  }

  /** Waits for a prompt, then answers it with `text` and Enter. */
  async function answer(term: Terminal, prompt: RegExp, text: string): Promise<void> {
    await term.waitForScreen(prompt)
    if (text !== '') await term.type(text)
    await term.press('Enter')
  }

  before(async () => {
    bank = await startBank('interactive')
  })

  afterEach(async () => {
    await terminal?.close()
    terminal = undefined
  })

  after(async () => {
    const { handler, projector } = bank
    const codes = await bank.stop()
    assert.deepEqual(codes, { handler: 0, projector: 0 }, `${handler.stderr}\n${projector.stderr}`)
  })

  it('OpenAccount: asks each field, enforces required and numbers, confirms, sends the typed values', async () => {
    const account = `acc-${randomBytes(4).toString('hex')}`
    const term = await interactive(['OpenAccount', '--key', account, '--wait', '--timeout', '30s'])
    await answer(term, /\? accountId \(optional\)/, '')
    await answer(term, /\? owner/, '')
    await term.waitForScreen(/owner is required/)
    await term.type('Zoe Smith')
    await term.press('Enter')
    await answer(term, /\? amount \(optional\) — an optional opening deposit/, 'abc')
    await term.waitForScreen(/amount must be a number/)
    await term.press('C-u')
    await term.type('25')
    await term.press('Enter')

    const confirmation = await term.waitForScreen(/Send this command\?/)
    assert.match(confirmation, new RegExp(`^topic ${bank.topics.commands}$`, 'm'))
    assert.match(confirmation, new RegExp(`^key ${account}$`, 'm'))
    assert.match(confirmation, /^value \{"data":\{"owner":"Zoe Smith","amount":25\},"type":"OpenAccount"/m)
    await term.press('Enter')

    const { code, stdout, screen } = await term.exited()
    assert.equal(code, 0, screen)
    assert.match(stdout, new RegExp(`${account}\\s+AccountOpened\\s+v1`))
    assert.match(stdout, new RegExp(`${account}\\s+FundsDeposited\\s+v2\\s+\\{"amount":25\\}`))
    const id = sentId(screen)

    const [record] = (await kcatConsume(brokers, bank.topics.commands)).filter((r) => payloadOf(r).id === id)
    assert.ok(record, `the command ${id} on ${bank.topics.commands}`)
    assert.equal(record.key, account)
    const value = payloadOf(record)
    assert.equal(value.type, 'OpenAccount')
    assert.deepEqual(value.data, { owner: 'Zoe Smith', amount: 25 })
  })

  it('DepositFunds: "abc" and 0 are refused as typed, 15 is sent with the expected version', async () => {
    const account = `acc-${randomBytes(4).toString('hex')}`
    const open = await runEs(
      [
        'send-command',
        'OpenAccount',
        '--key',
        account,
        '--data',
        '{"owner":"Ann"}',
        '--wait',
        '--timeout',
        '30s',
        '--config',
        bank.configFile,
      ],
      { env: cleanEnv },
    )
    assert.equal(open.code, 0, open.stderr)

    const term = await interactive([
      'DepositFunds',
      '--key',
      account,
      '--expected-version',
      '1',
      '--wait',
      '--timeout',
      '30s',
    ])
    await answer(term, /\? accountId \(optional\)/, '')
    await answer(term, /\? amount/, '')
    await term.waitForScreen(/amount is required/)
    await term.type('abc')
    await term.press('Enter')
    await term.waitForScreen(/amount must be a number/)
    await term.press('C-u')
    await term.type('0')
    await term.press('Enter')
    await term.waitForScreen(/amount must be > 0/)
    await term.press('C-u')
    await term.type('15')
    await term.press('Enter')

    const confirmation = await term.waitForScreen(/Send this command\?/)
    assert.match(confirmation, /"data":\{"amount":15\},"type":"DepositFunds".*"expectedVersion":1/)
    await term.press('Enter')

    const { code, stdout, screen } = await term.exited()
    assert.equal(code, 0, screen)
    assert.match(screen, /accepted: 1 event\(s\)/)
    assert.match(stdout, new RegExp(`${account}\\s+FundsDeposited\\s+v2\\s+\\{"amount":15\\}`))
    const id = sentId(screen)
    const [record] = (await kcatConsume(brokers, bank.topics.commands)).filter((r) => payloadOf(r).id === id)
    assert.ok(record, `the command ${id} on ${bank.topics.commands}`)
    assert.equal(record.key, account)
    const value = payloadOf(record)
    assert.deepEqual(
      { type: value.type, expectedVersion: value.expectedVersion, data: value.data },
      { type: 'DepositFunds', expectedVersion: 1, data: { amount: 15 } },
    )
  })

  it('answering no to the confirmation produces nothing', async () => {
    const before = await endOffsets(bank.topics.commands)
    const term = await interactive(['DepositFunds', '--key', 'acc-declined'])
    await answer(term, /\? accountId \(optional\)/, '')
    await answer(term, /\? amount/, '5')
    await answer(term, /Send this command\?/, 'n')
    const { code, stdout, screen } = await term.exited()
    assert.equal(code, 0, screen)
    assert.match(screen, /cancelled: nothing was produced/)
    assert.equal(stdout, '')
    assert.deepEqual(await endOffsets(bank.topics.commands), before)
  })

  it('enums are selects (calculator UpdateValue, --dry-run prints what would be sent)', async () => {
    const dir = join(bank.dir, 'calculator')
    await mkdir(dir)
    const topics = { commands: uniqueTopic('calc-commands'), events: uniqueTopic('calc-events') }
    const config = await writeConfigCopy(join(repoRoot, 'examples/calculator/es.config.yaml'), dir, (c) => {
      c.brokers = brokers
      c.services.calculator.streams = topics
    })
    terminal = await Terminal.start(
      [process.execPath, esBin, 'send-command', 'UpdateValue', '--interactive', '--dry-run', '--config', config],
      { env: cleanEnv },
    )
    const term = terminal
    const valueId = '5d3c4b2a-1f0e-4d9c-8b7a-695847362514'
    await answer(term, /\? value_id/, valueId)
    const select = await term.waitForScreen(/\? operation/)
    assert.match(select, /ADD/)
    assert.match(select, /MULTIPLY/)
    await term.press('Down')
    await term.press('Enter')
    await answer(term, /\? value\b/, 'x')
    await term.waitForScreen(/value must be a number/)
    await term.press('C-u')
    await term.type('3')
    await term.press('Enter')

    const { code, stdout, screen } = await term.exited()
    assert.equal(code, 0, screen)
    const record = JSON.parse(stdout)
    const value = JSON.parse(record.value)
    assert.equal(record.topic, topics.commands)
    assert.equal(record.key, value.id)
    assert.deepEqual(
      { action: value.action, data: value.data },
      { action: 'UpdateValue', data: { value_id: valueId, operation: 'MULTIPLY', value: 3 } },
    )
  })

  it('--interactive without a terminal is a usage error (exit 2)', async () => {
    const run = await runEs(
      ['send-command', 'DepositFunds', '--key', 'acc-x', '--interactive', '--config', bank.configFile],
      { env: cleanEnv },
    )
    assert.equal(run.code, 2, run.stderr)
    assert.match(run.stderr, /--interactive needs a terminal/)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
  })
})
