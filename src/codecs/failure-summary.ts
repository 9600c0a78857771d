/**
 * Undecodable records at a glance: grouped by event type (when known without the value, e.g. from
 * a header) and writer schema (registry id or fingerprint), with the first position of each group,
 * so that "3412 records of schema id 12 fail" shows at once (end of `es tail -e`, `es replay
 * --on-error skip`).
 */
import type { WriterSchema } from './codec.js'

export interface FailedRecord {
  topic: string
  partition: number
  offset: number
  type?: string
  schema?: WriterSchema
  reason?: string
}

export interface FailureGroup {
  type?: string
  schema?: WriterSchema
  count: number
  /** `topic/partition@offset` of the first record of the group (in the order seen). */
  first: string
  /** The first record's reason. */
  reason?: string
}

export class FailureSummary {
  private readonly groups = new Map<string, FailureGroup>()

  add(record: FailedRecord): void {
    const schema = record.schema?.id !== undefined ? `i${record.schema.id}` : (record.schema?.fingerprint ?? '')
    const key = `${record.type ?? ''}\u0000${schema}`
    const group = this.groups.get(key)
    if (group) group.count++
    else {
      this.groups.set(key, {
        ...(record.type === undefined ? {} : { type: record.type }),
        ...(record.schema === undefined ? {} : { schema: record.schema }),
        count: 1,
        first: `${record.topic}/${record.partition}@${record.offset}`,
        ...(record.reason === undefined ? {} : { reason: record.reason }),
      })
    }
  }

  /** Largest groups first. */
  list(): FailureGroup[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count)
  }
}

/** `3412 records of type FundsDeposited, schema id 12 fail (first at t/0@17: <reason>)`. */
export function describeFailureGroup(group: FailureGroup): string {
  const what: string[] = []
  if (group.type !== undefined) what.push(`type ${group.type}`)
  if (group.schema?.id !== undefined) what.push(`schema id ${group.schema.id}`)
  else if (group.schema?.fingerprint !== undefined) what.push(`schema fingerprint ${group.schema.fingerprint}`)
  const of = what.length ? ` of ${what.join(', ')}` : ''
  return `${group.count} record${group.count === 1 ? '' : 's'}${of} fail${group.count === 1 ? 's' : ''} (first at ${group.first}${group.reason ? `: ${group.reason}` : ''})`
}
