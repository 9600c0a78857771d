/**
 * How Avro values look in JavaScript, shared by the binary reader and writer so that decoding and
 * encoding agree:
 *   null, boolean, string          as themselves
 *   int, float, double             numbers
 *   long                           a number when it is a safe integer (|n| < 2^53), else its
 *                                  decimal text, so no precision is lost silently
 *   bytes, fixed                   base64 text (JSON-friendly; encoding also takes Buffers)
 *   enum                           the symbol
 *   array, map, record             arrays and plain objects (fields in schema order)
 *   union                          the branch value itself when the branches can be told apart by
 *                                  their JavaScript kind (the usual ["null", X]); otherwise, e.g.
 *                                  two record branches, Avro's JSON form `{"full.Name": value}`,
 *                                  so the branch, often the message type, is not lost
 * Logical types are read as their underlying type (timestamp-millis → number, decimal → base64).
 */
import type { AvroType } from './schema.js'

export type JsonKind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object'

export function jsonKindOf(type: AvroType): JsonKind {
  switch (type.type) {
    case 'null':
      return 'null'
    case 'boolean':
      return 'boolean'
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number'
    case 'string':
    case 'bytes':
    case 'fixed':
    case 'enum':
      return 'string'
    case 'array':
      return 'array'
    case 'map':
    case 'record':
      return 'object'
    case 'union':
      // Unions cannot nest directly; treat as object for completeness.
      return 'object'
  }
}

/** True when every branch has its own JavaScript kind, so values need no branch name. */
export function isUnwrappedUnion(branches: readonly AvroType[]): boolean {
  const kinds = new Set(branches.map(jsonKindOf))
  return kinds.size === branches.length
}

/** The key of a wrapped union value: the full name of a named type, else the type name. */
export function unionBranchName(type: AvroType): string {
  return 'name' in type ? type.name : type.type
}
