/**
 * Flag definitions shared by several commands, each defined once and parsed once into a value.
 */
import { Flags } from '@oclif/core'

export const portFlag = Flags.integer({
  summary: 'Port of the local broker.',
  default: 9092,
  min: 1,
  max: 65535,
})
