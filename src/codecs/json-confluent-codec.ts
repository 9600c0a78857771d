/**
 * `json-confluent`: 00 + 4-byte schema id + JSON text (Confluent's JSON Schema serializer).
 * Decoding needs no schema; encoding validates the value against the JSON Schema (ajv, the same
 * validation as commands: exit 5 naming the path) and frames it with the schema's registry id:
 * `schemaId`, or the local `schema` file looked up (or registered) under its subject.
 */
import { readFileSync } from 'node:fs'
import { validatePayload } from '../send/payload.js'
import { type Codec, type EncodeContext, schemaIdRef, subjectName, type WriterSchema } from './codec.js'
import { DecodeError, EncodeError, MissingSchemaError } from './codec-errors.js'
import { parseJsonText } from './json-codec.js'
import type { RegistryClient } from './registry-client.js'

const HEADER = 5

export interface ConfluentJsonOptions {
  client?: RegistryClient
  /** A local JSON Schema file. */
  schema?: string
  schemaId?: number
  autoRegister?: boolean
  subjectNameStrategy?: 'topic' | 'record' | 'topic-record'
}

export class ConfluentJsonCodec implements Codec {
  readonly name = 'json-confluent'
  private readonly schemas = new Map<number, object>()
  private readonly subjectIds = new Map<string, number>()
  private readonly local?: { text: string; document: object }

  constructor(private readonly options: ConfluentJsonOptions) {
    if (options.schema) {
      const text = readFileSync(options.schema, 'utf8')
      this.local = { text, document: JSON.parse(text) as object }
    }
  }

  decode(bytes: Buffer | null): unknown {
    if (bytes === null) return null
    if (bytes.length < HEADER || bytes[0] !== 0) {
      throw new DecodeError('not Confluent JSON framing (expected a 0x00 magic byte and a 4-byte schema id)', {
        code: 'NOT_CONFLUENT_FRAMING',
      })
    }
    return parseJsonText(bytes.toString('utf8', HEADER))
  }

  encode(value: unknown, context?: EncodeContext): Buffer | null {
    if (value === null || value === undefined) return null
    const { client } = this.options
    let id = this.options.schemaId
    let schema = this.local?.document
    if (id !== undefined) {
      schema = this.schemas.get(id)
      if (!schema) {
        const ref = schemaIdRef(id)
        const wanted = id
        throw new MissingSchemaError(ref, async () => {
          const found = await client?.schemaById(wanted)
          if (found) this.schemas.set(wanted, JSON.parse(found.schema) as object)
        })
      }
    } else if (this.local && client) {
      const title = (this.local.document as { title?: unknown }).title
      const subject = subjectName(
        this.options.subjectNameStrategy,
        context,
        typeof title === 'string' ? title : undefined,
      )
      id = this.subjectIds.get(subject)
      if (id === undefined) {
        const local = this.local
        throw new MissingSchemaError({ kind: 'subject', subject }, async () => {
          this.subjectIds.set(
            subject,
            await client.idFor(subject, { schema: local.text, schemaType: 'JSON' }, this.options.autoRegister ?? true),
          )
        })
      }
    } else {
      throw new EncodeError('json-confluent needs schemaId, or a schema file and a registry, to encode', {
        code: 'NO_WRITER_SCHEMA',
      })
    }
    validatePayload('value', schema, value)
    const header = Buffer.alloc(HEADER)
    header.writeUInt32BE(id, 1)
    return Buffer.concat([header, Buffer.from(JSON.stringify(value))])
  }

  schemaOf(bytes: Buffer): WriterSchema | undefined {
    return bytes.length >= HEADER && bytes[0] === 0 ? { id: bytes.readUInt32BE(1) } : undefined
  }
}
