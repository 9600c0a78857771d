// Bank accounts (seed 004, asimkilic/cqrs-event-sourcing-with-kafka) folded as the query side's
// AccountEventHandler writes its bank_account table:
//   AccountOpenedEvent   save a row {id, accountHolder, creationDate, accountType, balance = openingBalance}
//                        (a row with that id is replaced)
//   FundsDepositedEvent  balance + amount, if the row exists; an account it does not hold is ignored
//   FundsWithdrawnEvent  balance - amount, likewise
//   AccountClosedEvent   the row is deleted
// The state of an account the projector does not hold is null. es folds one aggregate's events
// in version order across the four topics, so a deposit is never applied before its opening.

export function initialState() {
  return null
}

export function evolve(account, event) {
  const e = event.payload
  switch (event.type) {
    case 'AccountOpenedEvent':
      return {
        id: e.id,
        accountHolder: e.accountHolder,
        creationDate: e.createdDate,
        accountType: e.accountType,
        balance: e.openingBalance,
      }
    case 'FundsDepositedEvent':
      return account === null ? null : { ...account, balance: account.balance + e.amount }
    case 'FundsWithdrawnEvent':
      return account === null ? null : { ...account, balance: account.balance - e.amount }
    case 'AccountClosedEvent':
      return null
    default:
      return account
  }
}

// BankAccount is a JPA entity without @Enumerated: Hibernate stores accountType as the enum's
// ordinal (SAVINGS 0, CURRENT 1); creationDate is a java.util.Date in a `timestamp` column.
const ACCOUNT_TYPES = ['SAVINGS', 'CURRENT']

export function toReadModel(account) {
  return {
    id: account.id,
    accountHolder: account.accountHolder,
    creationDate: new Date(account.creationDate).toISOString(),
    accountType: ACCOUNT_TYPES.indexOf(account.accountType),
    balance: account.balance,
  }
}
