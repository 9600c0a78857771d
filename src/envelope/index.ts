/**
 * The envelope layer's public surface: records → events, commands → records, locators.
 */
export {
  type CommandEncoder,
  type CommandInput,
  createCommandEncoder,
  defaultCommandEnvelope,
  type EncodedRecord,
  encodeCommand,
} from './command-encoder.js'
export {
  createEnvelopeDecoder,
  type DecodedEvent,
  type EnvelopeCodecs,
  type EnvelopeDecoder,
  type PartialDecode,
  partialDecode,
  toTimestamp,
} from './envelope-decoder.js'
export { formatJsonPath, type PathSegment, parseJsonPath } from './json-path.js'
export {
  compileLocatorReader,
  type Locator,
  type LocatorSource,
  type LocatorStage,
  parseLocator,
  simpleName,
} from './locator.js'
