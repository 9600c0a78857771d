import { Args, Flags } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { codecFlags, writeFlags } from '../src/cli/flags.js'
import { UsageError } from '../src/errors.js'
import { PRODUCE_COMPRESSIONS, type ProduceCompression } from '../src/kafka/producer-compression.js'
import { headerFlags } from '../src/produce/input.js'
import { type ProduceFormat, type ProduceResult, produce } from '../src/produce/produce.js'
import { describeProduced } from '../src/render/produce.js'
import { readStdinBytes } from '../src/stdin.js'

export default class Produce extends EsCommand<ProduceResult> {
  static override summary = 'Produce records from stdin or a file: kcat -P lines, or what es tail -o ndjson writes.'
  static override description =
    `Every line is read and validated before anything is produced: a bad line exits 5 naming its number, and nothing is produced. The producer is idempotent (acks from all in-sync replicas, no reordering or duplicates on retry).
--format lines (the default, as kcat -P): one value per line, bytes as they are; -K splits a key off at the first delimiter; -H adds a header to every record.
--format ndjson: the lines es tail -o ndjson writes (key, headers, timestamp, partition, value), values re-encoded with the service's codecs, undecodable records as their raw bytes; es tail <t> -e -o ndjson | es produce <other> --format ndjson copies a range with keys, headers, timestamps and per-key order.`
  static override examples = [
    "printf 'acc-1:hello\\nacc-2:world\\n' | <%= config.bin %> produce orders -K: -H source=manual",
    '<%= config.bin %> produce orders --file values.txt -p 0 --compression zstd',
    '<%= config.bin %> tail bank.events -e -o ndjson | <%= config.bin %> produce bank.events.copy --format ndjson',
  ]
  static override enableJsonFlag = true
  static override args = {
    topic: Args.string({ description: 'The topic to produce to (it must exist).', required: true }),
  }
  static override flags = {
    ...codecFlags,
    file: Flags.string({ summary: 'Read records from this file (default stdin; - is stdin).' }),
    format: Flags.string({
      summary: 'lines (kcat -P) or ndjson (as es tail -o ndjson writes).',
      options: ['lines', 'ndjson'],
      default: 'lines',
    }),
    'key-delimiter': Flags.string({ char: 'K', summary: 'With lines: the key ends at the first delimiter.' }),
    header: Flags.string({
      char: 'H',
      summary: 'A header k=v on every record (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    partition: Flags.integer({
      char: 'p',
      summary: "Every record to this partition (ndjson: instead of the line's).",
      min: 0,
    }),
    compression: Flags.string({
      char: 'z',
      summary: 'Compression of the produced batches.',
      options: [...PRODUCE_COMPRESSIONS],
      default: 'none',
    }),
    ...writeFlags,
  }

  async run(): Promise<ProduceResult> {
    const { args, flags } = await this.parse(Produce)
    if (flags.format === 'ndjson' && flags['key-delimiter'] !== undefined) {
      throw new UsageError('-K applies to --format lines; ndjson lines carry their key', { code: 'USAGE' })
    }
    const headers = headerFlags(
      flags.header ?? [],
      (pair) => new UsageError(`--header "${pair}" is not k=v`, { code: 'USAGE' }),
    )
    await this.guardWrite(`produce to ${args.topic}`, flags)
    const result = await produce({
      config: await this.settings(),
      service: this.serviceFlag,
      topic: args.topic,
      file: flags.file,
      format: flags.format as ProduceFormat,
      keyDelimiter: flags['key-delimiter'],
      headers,
      partition: flags.partition,
      compression: flags.compression as ProduceCompression,
      readStdin: readStdinBytes,
      debug: (line) => this.out.debug(line),
    })
    if (!this.jsonEnabled()) this.out.info(describeProduced(result))
    return result
  }
}
