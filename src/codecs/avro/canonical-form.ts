/**
 * The Parsing Canonical Form of an Avro schema (Avro specification, "Parsing Canonical Form for
 * Schemas"): primitives as bare names, full names everywhere, only the attributes that matter for
 * parsing (name, type, fields, symbols, items, values, size) in that order, no whitespace, and a
 * named type written out at its first occurrence and by name afterwards. That is what avsc's
 * `Type#schema()` exports (checked against Java's vectors in test/unit/avro.test.ts); its
 * CRC-64-AVRO is the fingerprint single-object encoding puts on the wire.
 */
import type avsc from 'avsc'

export function parsingCanonicalForm(type: avsc.Type): string {
  return JSON.stringify(type.schema())
}
