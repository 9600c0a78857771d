/**
 * One command → the record to produce, as the service expects it: the command type's config, the
 * payload validated against its JSON Schema, the envelope and codecs, the key (given, or read
 * from the payload where the command config says), refused when a keyed service would get none.
 * Shared by `es send-command` (one command) and `--batch` (one per line).
 */
import { randomUUID } from 'node:crypto'
import { MissingSchemaError, retryAfterLoadingSchemas } from '../codecs/codec-errors.js'
import type { CommandSpec, ServiceConfig } from '../config/types.js'
import {
  type CommandEncoder,
  compileLocatorReader,
  createCommandEncoder,
  defaultCommandEnvelope,
  type EncodedRecord,
  parseLocator,
} from '../envelope/index.js'
import { ConfigError, InvalidDataError } from '../errors.js'
import { isZeroConfig } from '../service/resolve.js'
import type { ServiceRuntime } from '../service/runtime.js'
import { requireCommandType, validatePayload } from './payload.js'

export interface CommandInput {
  type: string
  payload: unknown
  id?: string
  key?: unknown
  headers?: Record<string, string>
  expectedVersion?: number
  /** The payload was parsed for this command alone: the encoder may write into it. */
  ownedPayload?: boolean
}

export interface PreparedCommand extends EncodedRecord {
  commandId: string
  type: string
}

export interface CommandPreparer {
  /** The topic commands go to. */
  topic: string
  /** The envelope commands are written with (zero-config: `{"id","type","timestamp","data"}`). */
  envelopeService: Pick<ServiceConfig, 'name' | 'envelope'>
  /** The command type's config; unknown types are refused (exit 3) when the service declares any. */
  spec(type: string): CommandSpec | undefined
  /** Validates and encodes; throws (exit 5) on an invalid payload or a missing key. */
  prepare(command: CommandInput): PreparedCommand | Promise<PreparedCommand>
}

export function commandPreparer(runtime: ServiceRuntime, topicOverride?: string): CommandPreparer {
  const { service } = runtime
  const zero = isZeroConfig(service)
  const declared = Object.keys(service.commands).length > 0
  const topic = topicOverride ?? service.streams.commands[0]
  if (!topic) {
    throw new ConfigError(
      `no commands stream is configured${zero ? ' (no config file found)' : ` for service ${service.name}`}`,
      {
        code: 'NO_STREAM',
        suggestion: 'give --topic (and --brokers), or set the service streams.commands in the config',
      },
    )
  }
  const envelopeService: Pick<ServiceConfig, 'name' | 'envelope'> = zero
    ? { name: service.name, envelope: defaultCommandEnvelope }
    : service
  const keyedByEnvelope = isKeyLocator(envelopeService.envelope.aggregateId)
  const keyReaders = new Map<string, (payload: unknown) => unknown>()
  let encoder: Promise<CommandEncoder> | undefined
  let encode: CommandEncoder | undefined
  const spec = (type: string) => (declared ? requireCommandType(service.commands, type, service.name) : undefined)

  return {
    topic,
    envelopeService,
    spec,
    prepare(command) {
      const commandSpec = spec(command.type)
      validatePayload(command.type, commandSpec?.schema, command.payload)
      // The encoder needs the codecs (a schema registry, a schema topic): made once, then every
      // command is prepared synchronously unless a schema must be loaded first.
      if (!encode) {
        encoder ??= runtime
          .codecs()
          .then((codecs) =>
            createCommandEncoder(envelopeService, zero ? { key: codecs.key, value: jsonCodec(codecs.value) } : codecs),
          )
        return encoder.then((made) => {
          encode = made
          return prepareWith(made, command, commandSpec)
        })
      }
      return prepareWith(encode, command, commandSpec)
    },
  }

  function prepareWith(
    encode: CommandEncoder,
    command: CommandInput,
    commandSpec: CommandSpec | undefined,
  ): PreparedCommand | Promise<PreparedCommand> {
    const commandId = command.id ?? randomUUID()
    const expectedVersion = command.expectedVersion ?? defaultExpectedVersion(commandSpec, command.type, service.name)
    let key = command.key
    if (key === undefined && commandSpec?.key) {
      let read = keyReaders.get(command.type)
      if (!read) {
        read = keyReader(commandSpec.key, `services.${service.name}.commands.${command.type}.key`)
        keyReaders.set(command.type, read)
      }
      key = read(command.payload)
    }
    const run = () =>
      encode({
        topic,
        type: command.type,
        payload: command.payload,
        id: commandId,
        key,
        expectedVersion,
        headers: command.headers,
        timestamp: Date.now(),
        ownedPayload: command.ownedPayload,
      })
    let encoded: EncodedRecord
    try {
      encoded = run()
    } catch (error) {
      // Encoding may need a schema or a registry id first (Confluent codecs): loaded, then retried.
      if (!(error instanceof MissingSchemaError)) throw error
      return retryAfterLoadingSchemas(run).then((loaded) => finish(loaded, command, commandId, commandSpec))
    }
    return finish(encoded, command, commandId, commandSpec)
  }

  function finish(
    encoded: EncodedRecord,
    command: CommandInput,
    commandId: string,
    commandSpec: CommandSpec | undefined,
  ): PreparedCommand {
    // A command of a service keyed by aggregate that would go out without a key is lost to it
    // (seed 003 folds by key): refused, nothing produced.
    const keyed = commandSpec?.key !== undefined || keyedByEnvelope
    if (keyed && (encoded.key === null || encoded.key.length === 0)) {
      const field = commandSpec?.key
      throw new InvalidDataError(
        `${command.type} has no key: ${field ? `${field} is not in the payload and no --key was given` : 'the aggregate id is the record key and no --key was given'}; nothing was produced`,
        {
          code: 'NO_KEY',
          where: field ? { path: field } : undefined,
          suggestion: field
            ? `give --key <id>, or ${field} in the payload`
            : `give --key <id> (or set services.${service.name}.commands.${command.type}.key to a payload field)`,
        },
      )
    }
    return { key: encoded.key, value: encoded.value, headers: encoded.headers, commandId, type: command.type }
  }
}

/** Whether the locator reads the record key (`key`, `key | lower`, …). */
function isKeyLocator(text: string | undefined): boolean {
  return typeof text === 'string' && /^\s*key\s*(\||$)/.test(text)
}

/**
 * The expected version without `--expected-version`: the command type's default (0 for a command
 * that creates its aggregate), undefined, or refused where the service checks it (`required`).
 */
function defaultExpectedVersion(spec: CommandSpec | undefined, type: string, service: string): number | undefined {
  if (spec?.expectedVersion === undefined || typeof spec.expectedVersion === 'number') return spec?.expectedVersion
  throw new InvalidDataError(`${type} needs --expected-version: ${service} checks the version it expects`, {
    code: 'NO_EXPECTED_VERSION',
    where: { path: `services.${service}.commands.${type}.expectedVersion` },
    suggestion: `give --expected-version <n> (the aggregate's current version: es replay --aggregate <id>)`,
  })
}

/**
 * The record key when `--key` is absent: read from the payload where the command type's config
 * says (`key: $.accountId`). Undefined when absent from the payload.
 */
function keyReader(locator: string, field: string): (payload: unknown) => unknown {
  const read = compileLocatorReader(parseLocator(locator, field))
  return (payload) => {
    const key = read({
      record: { topic: '', partition: -1, offset: -1, timestamp: 0, key: null, value: null, headers: {} },
      key: undefined,
      value: payload,
      generation: 0,
      jsonCache: { generation: -1, inputs: [], outputs: [] },
      valueSchemaName: () => undefined,
    })
    return key === null ? undefined : key
  }
}

/** Zero-config commands are JSON whatever the value codec guesses on reads. */
function jsonCodec(codec: {
  encode(value: unknown): Buffer | null
  decode(bytes: Buffer | null): unknown
  name: string
}) {
  return {
    ...codec,
    name: 'json',
    encode: (value: unknown) => (value === undefined || value === null ? null : Buffer.from(JSON.stringify(value))),
    decode: (bytes: Buffer | null) => codec.decode(bytes),
  }
}
