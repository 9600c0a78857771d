/**
 * The codec layer's public surface: codecs, the schema port and its sources, errors.
 */

export { AutoCodec } from './auto-codec.js'
export {
  AvroSchema,
  AvroSchemaError,
  parsingFingerprint64,
  type ResolvedReader,
  schemasByFingerprint,
} from './avro/avro-schema.js'
export { parsingCanonicalForm } from './avro/canonical-form.js'
export { CRC64_AVRO_EMPTY, crc64Avro } from './avro/crc64.js'
export { ConfluentAvroCodec, RawAvroCodec, SingleObjectCodec, type SingleObjectSources } from './avro-codecs.js'
export {
  type Codec,
  describeSchemaRef,
  fingerprintRef,
  type SchemaRef,
  schemaIdRef,
} from './codec.js'
export { DecodeError, EncodeError, MissingSchemaError, retryAfterLoadingSchemas } from './codec-errors.js'
export { ConfluentRegistrySource, type RegistryConnection } from './confluent-registry-source.js'
export { type CodecOptions, createCodec, createServiceCodecs, type ServiceCodecs } from './create-codec.js'
export { FileSchemaSource } from './file-schema-source.js'
export { JsonCodec, parseJsonText } from './json-codec.js'
export { InMemorySchemaSource, type SchemaSource } from './schema-source.js'
export { type SchemaTopicOptions, SchemaTopicSource } from './schema-topic-source.js'
export { BytesCodec, StringCodec } from './text-codecs.js'
