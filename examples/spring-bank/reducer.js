// Bank accounts (seed 004) as the query side's bank_account table holds them:
// {id, accountHolder, creationDate, accountType, balance}.
//   AccountOpenedEvent   the row, balance = openingBalance
//   FundsDepositedEvent  balance + amount
//   FundsWithdrawnEvent  balance - amount
//   AccountClosedEvent   the row is deleted
// Each event type has its own topic and order across topics is not guaranteed, so deposits and
// withdrawals read before the account's opening are kept as a running sum and added to the
// opening balance: the result does not depend on how the topics interleave (a closing still
// has to come last, as in the service).

export function initialState(id) {
  return { id, accountHolder: null, creationDate: null, accountType: null, balance: 0 }
}

export function evolve(account, event) {
  const e = event.payload
  switch (event.type) {
    case 'AccountOpenedEvent':
      return {
        ...account,
        accountHolder: e.accountHolder,
        creationDate: e.createdDate,
        accountType: e.accountType,
        balance: account.balance + e.openingBalance,
      }
    case 'FundsDepositedEvent':
      return { ...account, balance: account.balance + e.amount }
    case 'FundsWithdrawnEvent':
      return { ...account, balance: account.balance - e.amount }
    case 'AccountClosedEvent':
      return null
    default:
      return account
  }
}
