// Calculator values folded from ValueCreated / ValueUpdated events (seed 002), by data.value_id:
// created sets the value, ADD adds, MULTIPLY multiplies (floats). The command processor re-reads
// all commands from the beginning when it restarts and emits their events again, so the events
// topic repeats whole histories; a repeated ValueCreated resets the value, so the fold of a
// repeated history ends where the first one did.

export function initialState(valueId) {
  return { value_id: valueId, value: null }
}

export function evolve(state, event) {
  const data = event.payload
  switch (event.type) {
    case 'ValueCreated':
      return { value_id: state.value_id, value: data.value }
    case 'ValueUpdated':
      if (state.value === null) return state // an update of a value never created: ignored, as the processor rejects it
      if (data.operation === 'ADD') return { ...state, value: state.value + data.value }
      if (data.operation === 'MULTIPLY') return { ...state, value: state.value * data.value }
      return state
    default:
      return state
  }
}
