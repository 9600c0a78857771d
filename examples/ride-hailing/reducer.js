// Ride-hailing orders (seed 003, eugene-khyst/ksqldb-event-souring) as its read model holds them:
// what GET /orders/{id} answers (the JPA entity readmodel.Order, null fields left out).
// The service folds an order the same way on every event (Aggregate.loadFromHistory, then
// OrderMapper.toReadModel):
//   records with is_command true are commands: not folded (their json_data names no eventType)
//   OrderPlacedEvent     status PLACED, riderId, price, route, placedDate = the event's createdDate
//   OrderAcceptedEvent   status ACCEPTED, driverId, acceptedDate
//   OrderCompletedEvent  status COMPLETED, completedDate
//   OrderCancelledEvent  status CANCELLED, cancelledDate
//   ErrorEvent           errors += {command: commandType, expectedVersion, message: errorMessage}
// version is the baseVersion: the version of the last event that is not an ErrorEvent (an
// ErrorEvent carries version 0 and leaves it untouched).

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
  const data = event.payload ?? {}
  if (data.eventType === undefined) return order
  switch (event.type) {
    case 'ErrorEvent':
      return {
        ...order,
        errors: [
          ...order.errors,
          { command: data.commandType, expectedVersion: data.expectedVersion, message: data.errorMessage },
        ],
      }
    case 'OrderPlacedEvent':
      return { ...applied(order, event), status: 'PLACED', riderId: data.riderId, price: data.price, route: data.route }
    case 'OrderAcceptedEvent':
      return { ...applied(order, event), status: 'ACCEPTED', driverId: data.driverId }
    case 'OrderCompletedEvent':
      return { ...applied(order, event), status: 'COMPLETED' }
    case 'OrderCancelledEvent':
      return { ...applied(order, event), status: 'CANCELLED' }
    default:
      return order
  }
}

function applied(order, event) {
  return { ...order, version: event.payload.version, [DATES[event.type]]: event.payload.createdDate }
}
