import { Args } from '@oclif/core'
import { EsCommand } from '../src/cli/base-command.js'
import { type CompletionShell, completionScript } from '../src/completion/script.js'

export default class Completion extends EsCommand<void> {
  static override summary = 'Print the shell function that completes topic, group, profile and projection names.'
  static override description =
    `Names come from the cluster of the current profile (topics, consumer groups, with a ~1 s deadline: a slow cluster completes nothing rather than hang the shell) and from the config (profiles, services, projections). Commands and flags stay with oclif's completion (es autocomplete), which this function calls for everything else when it is loaded.`
  static override examples = [
    'eval "$(<%= config.bin %> autocomplete script bash)"; eval "$(<%= config.bin %> completion bash)"',
    'eval "$(<%= config.bin %> completion zsh)"    # in ~/.zshrc, through bashcompinit',
  ]
  static override args = {
    shell: Args.string({ description: 'bash or zsh', options: ['bash', 'zsh'], required: true }),
  }

  async run(): Promise<void> {
    const { args } = await this.parse(Completion)
    this.out.data(completionScript(args.shell as CompletionShell).trimEnd())
  }
}
