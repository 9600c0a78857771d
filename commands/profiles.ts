import { EsCommand } from '../src/cli/base-command.js'
import { renderGrid } from '../src/render/table.js'

export interface ProfilesResult {
  /** The config file, or null in zero-config use. */
  config: string | null
  /** The profile in use and why (`flag`: --profile, `env`: ES_PROFILE, `default`: defaultProfile), or null. */
  current: { name: string; chosenBy: 'flag' | 'env' | 'default' } | null
  profiles: Array<{ name: string; current: boolean; readOnly: boolean; brokers: string[]; description?: string }>
}

export default class Profiles extends EsCommand<ProfilesResult> {
  static override summary = "List the config's profiles (clusters), marking the one in use and why."
  static override description =
    "A profile is chosen by --profile, else ES_PROFILE, else the config's defaultProfile. A read-only profile refuses every write (send-command, rebuild-projection, checkpoints resets, --handoff-group) unless --allow-write."
  static override examples = [
    '<%= config.bin %> profiles',
    '<%= config.bin %> profiles --profile prod',
    '<%= config.bin %> profiles --json',
  ]
  static override enableJsonFlag = true
  protected override showsProfile = true

  async run(): Promise<ProfilesResult> {
    await this.parse(Profiles)
    const config = await this.settings()
    const current = config.profile ? { name: config.profile.name, chosenBy: config.profile.chosenBy } : null
    const result: ProfilesResult = {
      config: config.source ?? null,
      current,
      profiles: config.profiles.map((p) => ({ ...p, current: p.name === current?.name })),
    }
    if (!this.jsonEnabled()) this.display(result)
    return result
  }

  private display(result: ProfilesResult): void {
    const { paint } = this.out
    if (result.profiles.length === 0) {
      this.out.info(
        `no profiles in ${result.config ?? '(no config file found)'}: add profiles: to the config (see README)`,
      )
      return
    }
    this.out.data(
      renderGrid(
        paint,
        ['', 'profile', 'brokers', 'access', 'description'],
        result.profiles.map((p) => [
          p.current ? '*' : '',
          p.name,
          p.brokers.join(','),
          p.readOnly ? paint.yellow('read-only') : 'read-write',
          p.description ?? '',
        ]),
      ),
    )
    const why = { flag: '--profile', env: 'ES_PROFILE', default: 'defaultProfile' }
    this.out.info(
      result.current
        ? `in use: ${result.current.name} (${why[result.current.chosenBy]})`
        : 'in use: none (no --profile, ES_PROFILE or defaultProfile): the top-level settings',
    )
  }
}
