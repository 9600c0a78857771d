import { ConfigError } from '../errors.js'
import {
  entriesById,
  type OpenedState,
  type PartitionOffsets,
  type StateIdentity,
  type StateStore,
  sameIdentity,
} from './state-store.js'

/**
 * State in memory only, lost when the process ends (so commits only record offsets). Also the
 * reference implementation for the state store contract suite.
 */
export class MemoryStateStore implements StateStore {
  readonly location = 'memory'
  private readonly states = new Map<string, unknown>()
  private committedOffsets: PartitionOffsets = new Map()
  private identity?: StateIdentity

  async open(identity: StateIdentity, options: { fresh: boolean }): Promise<OpenedState> {
    if (options.fresh || !this.identity) {
      this.states.clear()
      this.committedOffsets = new Map()
    } else if (!sameIdentity(this.identity, identity)) {
      throw new ConfigError('the in-memory state was written by another reducer or topic set', {
        code: 'STATE_MISMATCH',
        suggestion: 'use --from-beginning',
      })
    }
    this.identity = identity
    return { offsets: new Map(this.committedOffsets), aggregates: this.states.size }
  }

  get(aggregateId: string): unknown | undefined {
    return this.states.get(aggregateId)
  }

  has(aggregateId: string): boolean {
    return this.states.has(aggregateId)
  }

  set(aggregateId: string, state: unknown): void {
    this.states.set(aggregateId, state)
  }

  delete(aggregateId: string): void {
    this.states.delete(aggregateId)
  }

  async commit(offsets: PartitionOffsets): Promise<void> {
    this.committedOffsets = new Map(offsets)
  }

  entries(): IterableIterator<[string, unknown]> {
    return entriesById(this.states)
  }

  get size(): number {
    return this.states.size
  }

  async close(): Promise<void> {}
}
