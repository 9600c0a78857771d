import { Args } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { COMPLETION_KINDS, type CompletionKind, completionNames } from '../src/completion/names.js'

export default class Complete extends EsCommand<void> {
  static override hidden = true
  static override summary = 'Names for shell completion, one per line (used by es completion).'
  static override args = {
    kind: Args.string({ options: [...COMPLETION_KINDS], required: true }),
    prefix: Args.string({ default: '' }),
  }

  async run(): Promise<void> {
    const { args } = await this.parse(Complete)
    // A shell is waiting: a config that does not load completes nothing, quietly.
    const config = await this.settings().catch(() => undefined)
    if (!config) return
    for (const name of await completionNames(config, args.kind as CompletionKind, args.prefix)) this.out.data(name)
  }
}
