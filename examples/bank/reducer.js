/**
 * The `accounts` projection of the bank service as an `es` reducer (plain ESM JavaScript, so `es`
 * loads it without a build). It folds the events the same way as the service's own decider
 * (domain.ts `evolve`) and projector, into the shape of the `accounts` read model row, so
 * `es replay` and `es diff` compare like with like (updatedAt ↔ updated_at).
 *
 * Events arrive as `{type, aggregateId, id, causationId, version, timestamp, payload, …}` where
 * `payload` is the event's `data` object (see es.config.yaml's envelope).
 */

/** An account nothing has happened to yet (not in the read model). */
export function initialState(aggregateId) {
  return { id: aggregateId, owner: null, balance: 0, status: 'unopened', version: 0, updatedAt: null }
}

export function evolve(state, event) {
  // CommandRejected changes nothing; an event at or below the version is already folded. An
  // account that was never opened (a rejected command's target) has no row: no state either.
  if (event.type === 'CommandRejected' || event.version <= state.version) return state.version === 0 ? null : state
  const payload = event.payload ?? {}
  // One new object per event (a replay folds millions of them).
  switch (event.type) {
    case 'AccountOpened':
      return { ...state, status: 'open', owner: payload.owner, version: event.version, updatedAt: event.timestamp }
    case 'FundsDeposited':
      return { ...state, balance: state.balance + payload.amount, version: event.version, updatedAt: event.timestamp }
    case 'FundsWithdrawn':
      return { ...state, balance: state.balance - payload.amount, version: event.version, updatedAt: event.timestamp }
    case 'AccountClosed':
      // Closed accounts stay in the read model with status 'closed'.
      return { ...state, status: 'closed', version: event.version, updatedAt: event.timestamp }
    default:
      return state
  }
}

/**
 * The read-model row of an account: the table keeps `updated_at` as ISO-8601 text (the event's
 * timestamp as written), the fold keeps epoch ms (what `es` gives reducers). Used by `es diff` and
 * `es rebuild-projection`, once per account, not per event.
 */
export function toReadModel(state) {
  return { ...state, updatedAt: state.updatedAt === null ? null : new Date(state.updatedAt).toISOString() }
}
