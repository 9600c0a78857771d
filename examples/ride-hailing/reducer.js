// Ride-hailing orders (seed 003), folded from the events of order-commands-and-events. Commands
// share the topic: they are skipped (their types end in "Command").
//   OrderPlacedEvent     status PLACED, riderId, price, route, placedDate
//   OrderAcceptedEvent   status ACCEPTED, driverId, acceptedDate
//   OrderCompletedEvent  status COMPLETED, completedDate
//   OrderCancelledEvent  status CANCELLED, cancelledDate
//   ErrorEvent           errorMessage appended to errors; status unchanged
// The version is the last event's own version. The seed's ErrorEvent carries one (it bumps the
// version, as the seed's README shows: version 4 after a refused cancel); the later code's
// ErrorEvent has none and leaves the version.

export function initialState(id) {
  return { id, version: 0, status: null, errors: [] }
}

const DATES = {
  OrderPlacedEvent: 'placedDate',
  OrderAcceptedEvent: 'acceptedDate',
  OrderCompletedEvent: 'completedDate',
  OrderCancelledEvent: 'cancelledDate',
}

export function evolve(order, event) {
  const type = event.type ?? ''
  if (type.endsWith('Command')) return order
  const details = event.payload ?? {}
  const next = { ...order, version: typeof event.version === 'number' ? event.version : order.version }
  if (DATES[type] && details.createdDate !== undefined) next[DATES[type]] = details.createdDate
  switch (type) {
    case 'OrderPlacedEvent':
      return { ...next, status: 'PLACED', riderId: details.riderId, price: details.price, route: details.route }
    case 'OrderAcceptedEvent':
      return { ...next, status: 'ACCEPTED', driverId: details.driverId }
    case 'OrderCompletedEvent':
      return { ...next, status: 'COMPLETED' }
    case 'OrderCancelledEvent':
      return { ...next, status: 'CANCELLED' }
    case 'ErrorEvent':
      return { ...next, errors: [...order.errors, details.errorMessage] }
    default:
      return order
  }
}
