import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  type AccountEvent,
  type AccountState,
  type BankEvent,
  bodyOf,
  type Command,
  type CommandRejected,
  decide,
  type EventEnvelope,
  evolve,
  initialState,
  parseCommand,
  parseEvent,
  toEnvelopes,
} from '../../examples/bank/domain.js'
import { type AccountRow, projectRow } from '../../examples/bank/read-model.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')

let commandCount = 0
function command(type: string, data: Record<string, unknown> = {}, extra: Partial<Command> = {}): Command {
  return { id: `cmd-${++commandCount}`, type, accountId: 'acc-1', data, ...extra }
}

/** Decides and, when accepted, evolves: the state after the command. */
function run(state: AccountState, cmd: Command): AccountState {
  const decision = decide(cmd, state)
  return Array.isArray(decision) ? decision.reduce(evolve, state) : evolve(state, decision)
}

function given(...commands: Command[]): AccountState {
  return commands.reduce(run, initialState('acc-1'))
}

function rejected(decision: AccountEvent[] | CommandRejected): CommandRejected {
  assert.ok(!Array.isArray(decision), `expected a rejection, got ${JSON.stringify(decision)}`)
  return decision
}

function accepted(decision: AccountEvent[] | CommandRejected): AccountEvent[] {
  assert.ok(Array.isArray(decision), `expected events, got ${JSON.stringify(decision)}`)
  return decision
}

const open = () => command('OpenAccount', { owner: 'Alice' })

describe('bank decider', () => {
  it('starts unopened at version 0', () => {
    assert.deepEqual(initialState('acc-9'), { id: 'acc-9', status: 'unopened', owner: null, balance: 0, version: 0 })
  })

  it('opens an account at version 1', () => {
    assert.deepEqual(accepted(decide(open(), initialState('acc-1'))), [
      { type: 'AccountOpened', version: 1, data: { accountId: 'acc-1', owner: 'Alice' } },
    ])
    assert.deepEqual(given(open()), { id: 'acc-1', status: 'open', owner: 'Alice', balance: 0, version: 1 })
  })

  it('an opening deposit is a second event of the same command', () => {
    const events = accepted(decide(command('OpenAccount', { owner: 'Bob', amount: 25 }), initialState('acc-1')))
    assert.deepEqual(
      events.map((e) => [e.type, e.version]),
      [
        ['AccountOpened', 1],
        ['FundsDeposited', 2],
      ],
    )
    assert.equal(events.reduce(evolve, initialState('acc-1')).balance, 25)
  })

  it('deposits and withdraws, bumping the version by one each time', () => {
    const state = given(open(), command('DepositFunds', { amount: 100 }), command('WithdrawFunds', { amount: 30 }))
    assert.deepEqual(state, { id: 'acc-1', status: 'open', owner: 'Alice', balance: 70, version: 3 })
  })

  it('never overdraws: withdrawing more than the balance is rejected, the whole balance is fine', () => {
    const state = given(open(), command('DepositFunds', { amount: 50 }))
    const rejection = rejected(decide(command('WithdrawFunds', { amount: 50.01 }), state))
    assert.match(rejection.data.reason, /insufficient funds/)
    assert.equal(rejection.version, 2)
    assert.equal(rejection.data.actualVersion, 2)
    assert.equal(
      given(open(), command('DepositFunds', { amount: 50 }), command('WithdrawFunds', { amount: 50 })).balance,
      0,
    )
  })

  it('rejects operations on an account that is not open', () => {
    for (const cmd of [
      command('DepositFunds', { amount: 1 }),
      command('WithdrawFunds', { amount: 1 }),
      command('CloseAccount'),
    ]) {
      const rejection = rejected(decide(cmd, initialState('acc-1')))
      assert.match(rejection.data.reason, /not open/)
      assert.equal(rejection.version, 0)
    }
  })

  it('rejects opening an account twice', () => {
    const rejection = rejected(decide(command('OpenAccount', { owner: 'Eve' }), given(open())))
    assert.match(rejection.data.reason, /already exists/)
    assert.deepEqual(rejection.data, { commandType: 'OpenAccount', reason: rejection.data.reason, actualVersion: 1 })
  })

  it('closes an account and rejects everything after, keeping its balance', () => {
    const closed = given(open(), command('DepositFunds', { amount: 10 }), command('CloseAccount'))
    assert.deepEqual(closed, { id: 'acc-1', status: 'closed', owner: 'Alice', balance: 10, version: 3 })
    for (const cmd of [
      command('DepositFunds', { amount: 1 }),
      command('WithdrawFunds', { amount: 1 }),
      command('CloseAccount'),
    ]) {
      assert.match(rejected(decide(cmd, closed)).data.reason, /is closed/)
    }
    assert.match(rejected(decide(open(), closed)).data.reason, /already exists/)
  })

  it('requires positive numeric amounts', () => {
    const state = given(open())
    for (const amount of [0, -5, '10', null, Number.POSITIVE_INFINITY]) {
      const reason = rejected(decide(command('DepositFunds', { amount }), state)).data.reason
      assert.match(reason, /amount must be/, `amount ${String(amount)}`)
    }
    assert.match(rejected(decide(command('WithdrawFunds', {}), state)).data.reason, /amount is required/)
    assert.match(
      rejected(decide(command('OpenAccount', { owner: 'A', amount: -1 }), initialState('acc-1'))).data.reason,
      /amount must be positive/,
    )
  })

  it('requires an owner to open an account', () => {
    for (const data of [{}, { owner: '' }, { owner: '  ' }, { owner: 42 }]) {
      assert.match(rejected(decide(command('OpenAccount', data), initialState('acc-1'))).data.reason, /owner/)
    }
  })

  it('checks expectedVersion (optimistic concurrency)', () => {
    const state = given(open(), command('DepositFunds', { amount: 100 }))
    const stale = rejected(decide(command('WithdrawFunds', { amount: 10 }, { expectedVersion: 1 }), state))
    assert.deepEqual(stale, {
      type: 'CommandRejected',
      version: 2,
      data: {
        commandType: 'WithdrawFunds',
        reason: 'expected version 1 but account acc-1 is at version 2',
        expectedVersion: 1,
        actualVersion: 2,
      },
    })
    assert.deepEqual(accepted(decide(command('WithdrawFunds', { amount: 10 }, { expectedVersion: 2 }), state)), [
      { type: 'FundsWithdrawn', version: 3, data: { amount: 10 } },
    ])
    // Opening with expectedVersion 0 is "create only if new".
    assert.equal(
      accepted(decide(command('OpenAccount', { owner: 'A' }, { expectedVersion: 0 }), initialState('x'))).length,
      1,
    )
    assert.match(
      rejected(decide(command('OpenAccount', { owner: 'A' }, { expectedVersion: 0 }), state)).data.reason,
      /expected version 0/,
    )
    for (const expectedVersion of [-1, 1.5, '2']) {
      const rejection = rejected(decide(command('DepositFunds', { amount: 1 }, { expectedVersion }), state))
      assert.match(rejection.data.reason, /expectedVersion must be a non-negative integer/)
      assert.equal(rejection.data.expectedVersion, undefined)
    }
    // null counts as absent.
    assert.equal(accepted(decide(command('DepositFunds', { amount: 1 }, { expectedVersion: null }), state)).length, 1)
  })

  it('rejects unknown command types and a data.accountId that contradicts the key', () => {
    assert.match(
      rejected(decide(command('TransferFunds', { amount: 1 }), given(open()))).data.reason,
      /unknown command type/,
    )
    assert.match(
      rejected(decide(command('DepositFunds', { amount: 1, accountId: 'acc-2' }), given(open()))).data.reason,
      /does not match the record key/,
    )
    assert.equal(accepted(decide(command('DepositFunds', { amount: 1, accountId: 'acc-1' }), given(open()))).length, 1)
  })

  it('CommandRejected changes nothing when folded', () => {
    const state = given(open(), command('DepositFunds', { amount: 5 }))
    const rejection = rejected(decide(command('WithdrawFunds', { amount: 500 }), state))
    assert.equal(evolve(state, rejection), state)
  })

  it('stamps envelopes with new ids, the command id as causation, the account as aggregate', () => {
    const cmd = command('OpenAccount', { owner: 'Ann', amount: 3 })
    let n = 0
    const envelopes = toEnvelopes(decide(cmd, initialState('acc-1')), cmd, {
      newId: () => `evt-${++n}`,
      now: '2026-01-02T03:04:05.000Z',
    })
    assert.deepEqual(envelopes, [
      {
        id: 'evt-1',
        type: 'AccountOpened',
        causationId: cmd.id,
        aggregateId: 'acc-1',
        version: 1,
        timestamp: '2026-01-02T03:04:05.000Z',
        data: { accountId: 'acc-1', owner: 'Ann' },
      },
      {
        id: 'evt-2',
        type: 'FundsDeposited',
        causationId: cmd.id,
        aggregateId: 'acc-1',
        version: 2,
        timestamp: '2026-01-02T03:04:05.000Z',
        data: { amount: 3 },
      },
    ])
    // The wire field order is the documented one.
    assert.deepEqual(Object.keys(envelopes[0]), [
      'id',
      'type',
      'causationId',
      'aggregateId',
      'version',
      'timestamp',
      'data',
    ])
  })
})

describe('bank command and event parsing', () => {
  it('takes the account id from the key, else from data.accountId', () => {
    const fromKey = parseCommand('acc-7', JSON.stringify({ id: 'c1', type: 'DepositFunds', data: { amount: 1 } }))
    assert.ok(fromKey.ok)
    assert.equal(fromKey.command.accountId, 'acc-7')
    const fromData = parseCommand(
      null,
      JSON.stringify({ id: 'c2', type: 'CloseAccount', data: { accountId: 'acc-8' } }),
    )
    assert.ok(fromData.ok)
    assert.equal(fromData.command.accountId, 'acc-8')
  })

  it('keeps expectedVersion and timestamp when present', () => {
    const parsed = parseCommand(
      'a',
      JSON.stringify({ id: 'c', type: 'CloseAccount', timestamp: '2026-01-01T00:00:00Z', expectedVersion: 4 }),
    )
    assert.ok(parsed.ok)
    assert.deepEqual(parsed.command, {
      id: 'c',
      type: 'CloseAccount',
      accountId: 'a',
      data: {},
      timestamp: '2026-01-01T00:00:00Z',
      expectedVersion: 4,
    })
  })

  it('names what makes a record unanswerable', () => {
    const problem = (key: string | null, value: string | null) => {
      const parsed = parseCommand(key, value)
      assert.ok(!parsed.ok, `expected a problem for ${value}`)
      return parsed.problem
    }
    assert.match(problem('a', null), /no value/)
    assert.match(problem('a', '{oops'), /not JSON/)
    assert.match(problem('a', '[1]'), /not a JSON object/)
    assert.match(problem('a', '{"type":"CloseAccount"}'), /no "id"/)
    assert.match(problem(null, '{"id":"c","type":"CloseAccount"}'), /no account id/)
    assert.match(problem('a', '{"id":"c","type":"CloseAccount","data":"x"}'), /"data" is not an object/)
  })

  it('parses events and refuses ones that cannot be folded', () => {
    const event: EventEnvelope = {
      id: 'e',
      type: 'FundsDeposited',
      causationId: 'c',
      aggregateId: 'acc-1',
      version: 2,
      timestamp: 't',
      data: { amount: 5 },
    }
    assert.deepEqual(parseEvent('acc-1', JSON.stringify(event)), { ok: true, event })
    const bad = (value: unknown) => {
      const parsed = parseEvent('acc-1', JSON.stringify(value))
      assert.ok(!parsed.ok)
      return parsed.problem
    }
    assert.match(bad({ ...event, type: 'Nope' }), /unknown event type/)
    assert.match(bad({ ...event, version: '2' }), /version/)
    assert.match(bad({ ...event, data: { amount: -1 } }), /positive/)
    assert.match(bad({ ...event, data: undefined }), /data/)
  })
})

describe('bank reducer.js (the es projection) agrees with the service', () => {
  it('folds a random command history to the same rows as the projector, account by account', async () => {
    const reducer = (await import(pathToFileURL(join(root, 'examples/bank/reducer.js')).href)) as {
      initialState(id: string): Record<string, unknown>
      evolve(state: Record<string, unknown>, event: Record<string, unknown>): Record<string, unknown>
    }
    // A small deterministic generator (no Math.random: failures must reproduce).
    let seed = 42
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const types = ['OpenAccount', 'DepositFunds', 'WithdrawFunds', 'CloseAccount', 'Bogus']
    const ids = ['a', 'b', 'c', 'd']
    const states = new Map<string, AccountState>()
    const envelopes: EventEnvelope[] = []
    let n = 0
    for (let i = 0; i < 600; i++) {
      const accountId = ids[Math.floor(next() * ids.length)]
      const type = types[Math.floor(next() * (next() < 0.05 ? types.length : 3))]
      const state = states.get(accountId) ?? initialState(accountId)
      const cmd: Command = {
        id: `c${i}`,
        type,
        accountId,
        data: type === 'OpenAccount' ? { owner: `owner-${accountId}` } : { amount: Math.round(next() * 200) / 4 },
        ...(next() < 0.2 ? { expectedVersion: state.version - (next() < 0.5 ? 1 : 0) } : {}),
      }
      if (next() < 0.02) cmd.type = 'CloseAccount'
      const stamped = toEnvelopes(decide(cmd, state), cmd, {
        newId: () => `e${++n}`,
        now: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      })
      states.set(accountId, stamped.map(bodyOf).reduce<AccountState>(evolve, state))
      envelopes.push(...stamped)
    }
    assert.ok(envelopes.some((e) => e.type === 'CommandRejected'))
    assert.ok(envelopes.some((e) => e.type === 'FundsWithdrawn'))

    const rows = new Map<string, AccountRow>()
    const reduced = new Map<string, Record<string, unknown>>()
    // Each event twice: both must be idempotent on redelivery.
    for (const event of envelopes.flatMap((e) => [e, e])) {
      const row = rows.get(event.aggregateId)
      if (event.type !== 'CommandRejected' && !(row && event.version <= row.version)) {
        rows.set(event.aggregateId, projectRow(row, event))
      }
      const current = reduced.get(event.aggregateId) ?? reducer.initialState(event.aggregateId)
      reduced.set(
        event.aggregateId,
        reducer.evolve(current, { ...event, payload: event.data, data: undefined } as Record<string, unknown>),
      )
    }
    for (const [id, state] of states) {
      const row = rows.get(id)
      if (state.version === 0) {
        assert.equal(row, undefined, `${id} was never opened`)
        continue
      }
      assert.ok(row, `no row for ${id}`)
      const { updatedAt, ...rest } = row
      assert.deepEqual(rest, state, `projector row of ${id}`)
      assert.deepEqual(reduced.get(id), { ...state, updatedAt }, `reducer state of ${id}`)
    }
  })

  it('leaves state alone on CommandRejected and unknown types', async () => {
    const reducer = await import(pathToFileURL(join(root, 'examples/bank/reducer.js')).href)
    const state = { id: 'a', owner: 'A', balance: 5, status: 'open', version: 2, updatedAt: 't' }
    const rejection: BankEvent = {
      type: 'CommandRejected',
      version: 2,
      data: { commandType: 'X', reason: 'r', actualVersion: 2 },
    }
    assert.equal(reducer.evolve(state, { ...rejection, payload: rejection.data }), state)
    assert.equal(reducer.evolve(state, { type: 'Mystery', version: 3, payload: {} }), state)
  })
})
