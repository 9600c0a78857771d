/**
 * The bank account decider: three pure functions and the shapes they work on.
 *
 *   initialState(accountId)   the state of an account nothing has happened to
 *   evolve(state, event)      the state after one event (a fold over the account's events)
 *   decide(command, state)    the events a command causes, or a CommandRejected
 *
 * No I/O, no clock, no randomness: the command handler (command-handler.ts) stamps event ids and
 * timestamps with `toEnvelopes`, so tests can call everything here with plain values.
 *
 * Invariants: versions count an account's state-changing events (AccountOpened has version 1);
 * CommandRejected changes nothing and carries the current version; a balance never goes below 0.
 */

export const COMMAND_TYPES = ['OpenAccount', 'DepositFunds', 'WithdrawFunds', 'CloseAccount'] as const
export type CommandType = (typeof COMMAND_TYPES)[number]

export const EVENT_TYPES = [
  'AccountOpened',
  'FundsDeposited',
  'FundsWithdrawn',
  'AccountClosed',
  'CommandRejected',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/**
 * A command as read from `bank.commands`. `type` and `data` are what the sender wrote: unknown types
 * and bad payloads are turned into CommandRejected events by `decide`, not thrown.
 */
export interface Command {
  id: string
  type: string
  /** The record key (or, without one, `data.accountId`). */
  accountId: string
  timestamp?: string
  /** Optimistic concurrency: the version the sender saw. Absent = no check. */
  expectedVersion?: unknown
  data: Record<string, unknown>
}

export type AccountStatus = 'unopened' | 'open' | 'closed'

export interface AccountState {
  id: string
  status: AccountStatus
  owner: string | null
  balance: number
  version: number
}

export type AccountOpened = { type: 'AccountOpened'; version: number; data: { accountId: string; owner: string } }
export type FundsDeposited = { type: 'FundsDeposited'; version: number; data: { amount: number } }
export type FundsWithdrawn = { type: 'FundsWithdrawn'; version: number; data: { amount: number } }
export type AccountClosed = { type: 'AccountClosed'; version: number; data: Record<string, never> }
export type CommandRejected = {
  type: 'CommandRejected'
  version: number
  data: { commandType: string; reason: string; expectedVersion?: number; actualVersion: number }
}

/** Events that change an account (and bump its version). */
export type AccountEvent = AccountOpened | FundsDeposited | FundsWithdrawn | AccountClosed
export type BankEvent = AccountEvent | CommandRejected

/** An event as it is written to `bank.events` (the JSON value; the record key is `aggregateId`). */
export type EventEnvelope<E extends BankEvent = BankEvent> = {
  id: string
  type: E['type']
  causationId: string
  aggregateId: string
  version: number
  timestamp: string
  data: E['data']
}

export function initialState(accountId: string): AccountState {
  return { id: accountId, status: 'unopened', owner: null, balance: 0, version: 0 }
}

export function evolve(state: AccountState, event: BankEvent): AccountState {
  switch (event.type) {
    case 'AccountOpened':
      return { ...state, status: 'open', owner: event.data.owner, version: event.version }
    case 'FundsDeposited':
      return { ...state, balance: state.balance + event.data.amount, version: event.version }
    case 'FundsWithdrawn':
      return { ...state, balance: state.balance - event.data.amount, version: event.version }
    case 'AccountClosed':
      return { ...state, status: 'closed', version: event.version }
    case 'CommandRejected':
      return state
  }
}

export function decide(command: Command, state: AccountState): AccountEvent[] | CommandRejected {
  const reject = (reason: string): CommandRejected => ({
    type: 'CommandRejected',
    version: state.version,
    data: {
      commandType: command.type,
      reason,
      ...(isVersion(command.expectedVersion) ? { expectedVersion: command.expectedVersion } : {}),
      actualVersion: state.version,
    },
  })
  const next = (offset: number) => state.version + offset

  if (!isCommandType(command.type)) {
    return reject(`unknown command type "${command.type}" (expected one of ${COMMAND_TYPES.join(', ')})`)
  }
  const claimed = command.data.accountId
  if (claimed !== undefined && claimed !== command.accountId) {
    return reject(`data.accountId "${String(claimed)}" does not match the record key "${command.accountId}"`)
  }
  if (command.expectedVersion !== undefined && command.expectedVersion !== null) {
    if (!isVersion(command.expectedVersion)) return reject('expectedVersion must be a non-negative integer')
  }
  const amount = command.data.amount
  const amountProblem = amount === undefined ? 'amount is required' : positiveAmountProblem(amount)
  const owner = command.data.owner

  // Payload shape first: a malformed command is wrong whatever the account's state.
  switch (command.type) {
    case 'OpenAccount':
      if (typeof owner !== 'string' || owner.trim() === '') return reject('owner must be a non-empty string')
      if (amount !== undefined && amountProblem) return reject(amountProblem)
      break
    case 'DepositFunds':
    case 'WithdrawFunds':
      if (amountProblem) return reject(amountProblem)
      break
    case 'CloseAccount':
      break
  }

  if (isVersion(command.expectedVersion) && command.expectedVersion !== state.version) {
    return reject(`expected version ${command.expectedVersion} but account ${state.id} is at version ${state.version}`)
  }

  if (command.type === 'OpenAccount') {
    if (state.status !== 'unopened') return reject(`account ${state.id} already exists (${state.status})`)
    const opened: AccountOpened = {
      type: 'AccountOpened',
      version: next(1),
      data: { accountId: state.id, owner: owner as string },
    }
    // An opening deposit is a second event of the same command (written in the same send).
    return amount === undefined
      ? [opened]
      : [opened, { type: 'FundsDeposited', version: next(2), data: { amount: amount as number } }]
  }

  if (state.status === 'unopened') return reject(`account ${state.id} is not open`)
  if (state.status === 'closed') return reject(`account ${state.id} is closed`)

  switch (command.type) {
    case 'DepositFunds':
      return [{ type: 'FundsDeposited', version: next(1), data: { amount: amount as number } }]
    case 'WithdrawFunds':
      if ((amount as number) > state.balance) {
        return reject(`insufficient funds: balance ${state.balance}, withdrawal ${amount}`)
      }
      return [{ type: 'FundsWithdrawn', version: next(1), data: { amount: amount as number } }]
    case 'CloseAccount':
      return [{ type: 'AccountClosed', version: next(1), data: {} }]
  }
}

/**
 * Wraps decided events in the wire envelope. `newId` and `now` are the only impure inputs, passed in
 * so this stays testable.
 */
export function toEnvelopes(
  decision: AccountEvent[] | CommandRejected,
  command: Pick<Command, 'id' | 'accountId'>,
  stamp: { newId: () => string; now: string },
): EventEnvelope[] {
  const events: BankEvent[] = Array.isArray(decision) ? decision : [decision]
  return events.map((event) => ({
    id: stamp.newId(),
    type: event.type,
    causationId: command.id,
    aggregateId: command.accountId,
    version: event.version,
    timestamp: stamp.now,
    data: event.data,
  }))
}

/** A record value that must be a JSON object, or the problem with it. */
function parseJsonObject(
  value: string | null,
): { ok: true; value: Record<string, unknown> } | { ok: false; problem: string } {
  if (value === null) return { ok: false, problem: 'the record has no value' }
  let raw: unknown
  try {
    raw = JSON.parse(value)
  } catch (error) {
    return { ok: false, problem: `the value is not JSON (${(error as Error).message})` }
  }
  if (!isObject(raw)) return { ok: false, problem: 'the value is not a JSON object' }
  return { ok: true, value: raw }
}

export type ParsedCommand = { ok: true; command: Command } | { ok: false; problem: string }

/**
 * A command record (key and JSON value) → a Command. Only records that cannot even be answered with
 * a CommandRejected (no JSON object, no id, no account) are problems; everything else is left for
 * `decide` to judge.
 */
export function parseCommand(key: string | null, value: string | null): ParsedCommand {
  const parsed = parseJsonObject(value)
  if (!parsed.ok) return parsed
  const raw = parsed.value
  if (typeof raw.id !== 'string' || raw.id === '') return { ok: false, problem: 'the command has no "id"' }
  const data = raw.data === undefined ? {} : raw.data
  if (!isObject(data)) return { ok: false, problem: `command ${raw.id}: "data" is not an object` }
  const accountId = key !== null && key !== '' ? key : data.accountId
  if (typeof accountId !== 'string' || accountId === '') {
    return { ok: false, problem: `command ${raw.id}: no account id (neither a record key nor data.accountId)` }
  }
  const command: Command = { id: raw.id, type: String(raw.type ?? ''), accountId, data }
  if (typeof raw.timestamp === 'string') command.timestamp = raw.timestamp
  if (raw.expectedVersion !== undefined) command.expectedVersion = raw.expectedVersion
  return { ok: true, command }
}

export type ParsedEvent = { ok: true; event: EventEnvelope } | { ok: false; problem: string }

/** An event record's JSON value → an EventEnvelope, checked enough to fold it safely. */
export function parseEvent(key: string | null, value: string | null): ParsedEvent {
  const parsed = parseJsonObject(value)
  if (!parsed.ok) return parsed
  const raw = parsed.value
  if (!(EVENT_TYPES as readonly string[]).includes(String(raw.type))) {
    return { ok: false, problem: `unknown event type "${String(raw.type)}"` }
  }
  const aggregateId = typeof raw.aggregateId === 'string' ? raw.aggregateId : key
  if (!aggregateId) return { ok: false, problem: 'the event has no aggregateId and no key' }
  if (!isVersion(raw.version)) return { ok: false, problem: 'the event has no integer "version"' }
  if (!isObject(raw.data)) return { ok: false, problem: 'the event has no "data" object' }
  const type = raw.type as EventType
  if ((type === 'FundsDeposited' || type === 'FundsWithdrawn') && positiveAmountProblem(raw.data.amount)) {
    return { ok: false, problem: `${type} has no positive "data.amount"` }
  }
  return {
    ok: true,
    event: {
      id: String(raw.id ?? ''),
      type,
      causationId: String(raw.causationId ?? ''),
      aggregateId,
      version: raw.version,
      timestamp: String(raw.timestamp ?? ''),
      data: raw.data as EventEnvelope['data'],
    } as EventEnvelope,
  }
}

/** The envelope's body as the decider's event (for `evolve`). */
export function bodyOf(envelope: EventEnvelope): BankEvent {
  return { type: envelope.type, version: envelope.version, data: envelope.data } as BankEvent
}

export function isCommandType(type: string): type is CommandType {
  return (COMMAND_TYPES as readonly string[]).includes(type)
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0
}

function positiveAmountProblem(amount: unknown): string | undefined {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return 'amount must be a number'
  if (amount <= 0) return 'amount must be positive'
  return undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
