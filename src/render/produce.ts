/** `es produce`'s outcome line (stderr). */
import type { ProduceResult } from '../produce/produce.js'

export function describeProduced(result: ProduceResult): string {
  if (result.records === 0) return `no records in the input: nothing was produced to ${result.topic}`
  const where = result.partitions.map((p) => `${p.partition}@${p.firstOffset}–${p.lastOffset}`).join(', ')
  return `produced ${result.records} record${result.records === 1 ? '' : 's'} to ${result.topic} (${where})${result.compression === 'none' ? '' : `, ${result.compression}`}`
}
