/**
 * Schemas from local .avsc files, keyed by fingerprint. Files are read and validated once, when
 * the codec is created, so a bad file is a configuration error at start, not a decode error later.
 */
import { readFile } from 'node:fs/promises'
import { ConfigError } from '../errors.js'
import { AvroSchema, AvroSchemaError } from './avro/avro-schema.js'
import type { SchemaRef } from './codec.js'
import type { SchemaSource } from './schema-source.js'

export class FileSchemaSource implements SchemaSource {
  readonly description: string
  private readonly byFingerprint = new Map<bigint, { text: string; schema: AvroSchema }>()

  private constructor(
    /** Compiled, in the order the files were listed (encoding tries them in this order). */
    readonly schemas: readonly AvroSchema[],
    texts: readonly string[],
    files: readonly string[],
  ) {
    this.description = `schema files (${files.join(', ')})`
    schemas.forEach((schema, i) => {
      this.byFingerprint.set(schema.fingerprint, { text: texts[i], schema })
    })
  }

  /** Reads and compiles the files; `configPath` names the setting in error messages. */
  static async open(files: readonly string[], configPath = 'schemas'): Promise<FileSchemaSource> {
    const texts: string[] = []
    const schemas: AvroSchema[] = []
    for (const file of files) {
      const text = await readSchemaFile(file, configPath)
      texts.push(text)
      schemas.push(compileSchemaFile(text, file, configPath))
    }
    return new FileSchemaSource(schemas, texts, files)
  }

  /** The compiled schema with this fingerprint, if one of the files has it. */
  schemaFor(fingerprint: bigint): AvroSchema | undefined {
    return this.byFingerprint.get(fingerprint)?.schema
  }

  get(ref: SchemaRef): string | undefined {
    return ref.kind === 'fingerprint' ? this.byFingerprint.get(ref.fingerprint)?.text : undefined
  }

  async load(ref: SchemaRef): Promise<string | undefined> {
    return this.get(ref)
  }
}

export async function readSchemaFile(file: string, configPath: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message
    throw new ConfigError(`Avro schema file ${file} ${reason} (${configPath})`, {
      code: 'CONFIG_INVALID',
      where: { file, path: configPath },
    })
  }
}

export function compileSchemaFile(text: string, file: string, configPath: string): AvroSchema {
  try {
    return new AvroSchema(text, file)
  } catch (error) {
    if (!(error instanceof AvroSchemaError)) throw error
    throw new ConfigError(`${file} is not a valid Avro schema: ${error.message} (${configPath})`, {
      code: 'CONFIG_INVALID',
      where: { file, path: configPath },
    })
  }
}
