/**
 * Commands → records: the inverse of the envelope decoder. Each envelope field is written where
 * its locator points: a JSON path creates the objects on its way, `header:X` sets a header, `key`
 * sets the record key, `| json` writes a JSON document into a string field, `| simple-name` writes
 * the full type name (from `typeNames`). Metadata locators (`topic`, `timestamp`, `schema`, …) and
 * `none` are not written. Order: payload, then `commandDefaults`, then the envelope fields, so
 * the envelope fields win where they overlap.
 *
 * The expected version goes to `expectedVersion` if the envelope names one, else to `version`;
 * the time to `commandTimestamp`, else to `timestamp`, as epoch ms when that locator ends in
 * `| number`, else as ISO-8601 text. `commandFields` then writes envelope fields again where a
 * system's handler also reads them (`"$.json_data | json | $.commandType": type`).
 */
import { COMMAND_FIELDS, type CommandField, type EnvelopeSpec } from '../config/types.js'
import { ConfigError } from '../errors.js'
import type { KafkaRecord } from '../kafka/record.js'
import type { EnvelopeCodecs } from './envelope-decoder.js'
import { envelopeConfigPath } from './envelope-decoder.js'
import {
  compileLocatorReader,
  endsInNumber,
  type Locator,
  type LocatorFrame,
  newJsonStageCache,
  parseLocator,
  type WriteContext,
  type WriteTarget,
  writeThroughLocator,
} from './locator.js'

export interface CommandInput {
  type: string
  payload: unknown
  /** The command id (send-command: `--id`, else a new UUID). */
  id: string
  /** The record key as given (`--key`); encoded with the key codec. */
  key?: unknown
  /**
   * Written at the `aggregateId` locator; also the key when that locator is `key`. Defaults to
   * `key` when that is text, as a record key is the aggregate id unless the envelope puts the
   * message id there (`id: key`).
   */
  aggregateId?: string
  expectedVersion?: number
  causationId?: string
  correlationId?: string
  /** Extra headers (`--header k=v`). */
  headers?: Record<string, string>
  /** Epoch ms. */
  timestamp: number
  /** The topic written to (registry subject names of Confluent codecs). */
  topic?: string
  /** The payload is the encoder's to change (parsed for this command alone): not copied. */
  ownedPayload?: boolean
}

export interface EncodedRecord {
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, string>
}

/**
 * The envelope of commands in zero-config use: `{"id", "type", "timestamp", "data"}` with the
 * payload under `data` (plus `version` for an expected version and `causationId` when given),
 * keyed by the aggregate id.
 */
export const defaultCommandEnvelope: EnvelopeSpec = {
  type: '$.type',
  id: '$.id',
  causationId: '$.causationId',
  correlationId: '$.correlationId',
  aggregateId: 'key',
  version: '$.version',
  timestamp: '$.timestamp',
  payload: '$.data',
}

export type CommandEncoder = (command: CommandInput) => EncodedRecord

export function createCommandEncoder(
  service: { name?: string; envelope: EnvelopeSpec },
  codecs: EnvelopeCodecs,
): CommandEncoder {
  const base = envelopeConfigPath(service)
  const envelope = service.envelope
  const locator = (field: keyof EnvelopeSpec): Locator | undefined => {
    const text = envelope[field]
    return typeof text === 'string' ? parseLocator(text, `${base}.${field}`) : undefined
  }
  const payload = locator('payload')
  const type = locator('type')
  const id = locator('id')
  const aggregateId = locator('aggregateId')
  const causationId = locator('causationId')
  const correlationId = locator('correlationId')
  const expectedVersion = locator('expectedVersion') ?? locator('version')
  const timestamp = locator('commandTimestamp') ?? locator('timestamp')
  const commandKey = locator('commandKey')
  const readCommandKey = commandKey ? compileLocatorReader(commandKey) : undefined
  const defaults = Object.entries(envelope.commandDefaults ?? {}).map(([name, value]) => ({
    locator: parseLocator(isLocatorText(name) ? name : `$[${JSON.stringify(name)}]`, `${base}.commandDefaults`),
    value,
  }))
  const extraFields = Object.entries(envelope.commandFields ?? {}).map(([where, field]) => {
    if (!(COMMAND_FIELDS as readonly string[]).includes(field)) {
      throw new ConfigError(`${base}.commandFields["${where}"]: "${field}" is not a command field`, {
        code: 'CONFIG_INVALID',
        where: { path: `${base}.commandFields` },
        suggestion: `use one of ${COMMAND_FIELDS.join(', ')}`,
      })
    }
    return { locator: parseLocator(where, `${base}.commandFields`), field: field as CommandField }
  })
  const context: WriteContext = { typeNames: envelope.typeNames, typeNamesField: `${base}.typeNames` }
  const keyIsMessageId = id?.source.kind === 'key'

  // Commands of a batch share their millisecond: its ISO text is made once.
  let isoMs = Number.NaN
  let isoText = ''
  const isoTime = (ms: number) => {
    if (ms !== isoMs) {
      isoText = new Date(ms).toISOString()
      isoMs = ms
    }
    return isoText
  }
  return (command) => {
    const target: WriteTarget = { value: undefined, key: undefined, keyWritten: false, headers: { ...command.headers } }
    const write = (where: Locator | undefined, value: unknown) => {
      if (where !== undefined && value !== undefined) writeThroughLocator(where, target, value, context)
    }
    // A copy: writing envelope fields into the payload's object must not change the caller's.
    write(payload, command.ownedPayload ? command.payload : structuredClone(command.payload))
    for (const entry of defaults) write(entry.locator, structuredClone(entry.value))
    write(type, command.type)
    write(id, command.id)
    const aggregate =
      command.aggregateId ?? (!keyIsMessageId && typeof command.key === 'string' ? command.key : undefined)
    write(aggregateId, aggregate)
    write(causationId, command.causationId)
    write(correlationId, command.correlationId)
    write(expectedVersion, command.expectedVersion)
    if (timestamp) {
      write(timestamp, endsInNumber(timestamp) ? command.timestamp : isoTime(command.timestamp))
    }
    const fields: Record<CommandField, unknown> = {
      type: command.type,
      id: command.id,
      aggregateId: aggregate,
      expectedVersion: command.expectedVersion,
      causationId: command.causationId,
      correlationId: command.correlationId,
    }
    for (const extra of extraFields) write(extra.locator, fields[extra.field])

    let key: unknown
    if (command.key !== undefined) key = command.key
    else if (target.keyWritten) key = target.key
    else if (readCommandKey) key = readCommandKey(commandFrame(target))
    const topic = command.topic ?? ''
    return {
      key: codecs.key.encode(key, { topic, part: 'key', headers: target.headers }),
      value: codecs.value.encode(target.value, { topic, part: 'value', headers: target.headers }),
      headers: target.headers,
    }
  }
}

/** One-off form of `createCommandEncoder(service, codecs)(command)`. */
export function encodeCommand(
  command: CommandInput & { service: { name?: string; envelope: EnvelopeSpec } },
  codecs: EnvelopeCodecs,
): EncodedRecord {
  const { service, ...input } = command
  return createCommandEncoder(service, codecs)(input)
}

function isLocatorText(name: string): boolean {
  return name.startsWith('$') || name.startsWith('header:') || name === 'key'
}

/** A frame over the record being built, so `commandKey` reads it like a decoded record. */
function commandFrame(target: WriteTarget): LocatorFrame {
  const record: KafkaRecord = {
    topic: '',
    partition: -1,
    offset: -1,
    timestamp: 0,
    key: null,
    value: null,
    headers: target.headers,
  }
  return {
    record,
    key: target.key,
    value: target.value,
    generation: 0,
    jsonCache: newJsonStageCache(),
    valueSchemaName: () => undefined,
  }
}
