/**
 * The `[pattern]` of `es topics` and `es groups`: a glob (`*` any run of characters, `?` one), or,
 * without wildcards, any name containing the text (as `kafkactl get topics | grep` would).
 */
export function namePattern(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined || pattern === '') return () => true
  if (!/[*?]/.test(pattern)) return (name) => name.includes(pattern)
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('')
  const regex = new RegExp(`^${source}$`)
  return (name) => regex.test(name)
}

/** Internal topics: Kafka's own (`__consumer_offsets`, `__transaction_state`) and `_schemas`-like ones. */
export function isInternalTopic(name: string): boolean {
  return name.startsWith('_')
}
