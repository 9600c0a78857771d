import { Args, Flags } from '@oclif/core'
import { listTopics, type TopicsResult } from '../src/admin/topics.js'
import { EsCommand } from '../src/cli/base-command.js'
import { renderTopics, topicsSummary } from '../src/render/topics.js'

export default class Topics extends EsCommand<TopicsResult> {
  static override summary =
    'List topics: partitions, replication, cleanup policy, offsets, approximate record counts, last record time.'
  static override description =
    `The pattern is a glob (* and ?), or without wildcards any name containing it. Internal topics (names starting with _, such as __consumer_offsets) are hidden unless --all.
Earliest/latest are per partition (comma-separated in the table); the record count is latest − earliest summed over partitions, approximate under compaction and transactions. The last record's time is its record timestamp.`
  static override examples = [
    '<%= config.bin %> topics',
    "<%= config.bin %> topics 'bank.*'",
    '<%= config.bin %> topics --all --json | jq -r ".topics[].name"',
  ]
  static override enableJsonFlag = true
  static override args = {
    pattern: Args.string({ description: 'A glob (bank.*) or a part of the name.' }),
  }
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Include internal topics (__consumer_offsets, _schemas…).' }),
  }

  async run(): Promise<TopicsResult> {
    const { args, flags } = await this.parse(Topics)
    const config = await this.settings()
    const result = await listTopics(config.kafka, {
      pattern: args.pattern,
      all: flags.all,
      client: { debug: (line) => this.out.debug(line) },
    })
    if (!this.jsonEnabled()) {
      if (result.topics.length > 0) this.out.data(renderTopics(this.out.paint, result))
      this.out.info(topicsSummary(result))
    }
    return result
  }
}
