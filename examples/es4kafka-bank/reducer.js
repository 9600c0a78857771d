// Account balances folded from Movement events (seed 001), exactly as the Kafka Streams topology
// aggregates them into the accounts table: balance += movement.amount. A refused withdrawal is a
// Movement(0, "insufficient funds"): it leaves the balance as it is. Other records (Operation
// commands, Account snapshots) do not change the balance.

export function initialState() {
  return { balance: 0 }
}

export function evolve(account, event) {
  if (event.type !== 'Movement') return account
  return { balance: account.balance + event.payload.amount }
}
