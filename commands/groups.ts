import { Args } from '@oclif/core'
import { type GroupsResult, listGroups } from '../src/admin/groups.js'
import { EsCommand } from '../src/cli/base-command.js'
import { groupsSummary, renderGroups } from '../src/render/groups.js'

export default class Groups extends EsCommand<GroupsResult> {
  static override summary = 'List consumer groups: state, members, the topics they consume and their total lag.'
  static override description = `The pattern is a glob (* and ?), or without wildcards any group id containing it.
The topics are those the group has committed offsets on or its members are assigned; the lag is latest − committed summed over the partitions it has committed on (— when it has committed nothing). es checkpoints <group> shows one group partition by partition.`
  static override examples = [
    '<%= config.bin %> groups',
    "<%= config.bin %> groups 'bank-*'",
    '<%= config.bin %> groups --json | jq ".groups[] | {group, lag}"',
  ]
  static override enableJsonFlag = true
  static override args = {
    pattern: Args.string({ description: 'A glob (bank-*) or a part of the group id.' }),
  }

  async run(): Promise<GroupsResult> {
    const { args } = await this.parse(Groups)
    const config = await this.settings()
    const result = await listGroups(config.kafka, {
      pattern: args.pattern,
      client: { debug: (line) => this.out.debug(line) },
    })
    if (!this.jsonEnabled()) {
      if (result.groups.length > 0) this.out.data(renderGroups(this.out.paint, result))
      this.out.info(groupsSummary(result))
    }
    return result
  }
}
