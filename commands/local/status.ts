import { EsCommand } from '../../src/cli/base-command.js'
import { portFlag } from '../../src/cli/flags.js'
import { type BrokerStatus, brokerStatus } from '../../src/local/broker.js'

export default class LocalStatus extends EsCommand<BrokerStatus> {
  static override summary = 'Show whether the local Kafka broker runs: port, pid, version, data directory.'
  static override examples = ['<%= config.bin %> local status', '<%= config.bin %> local status --json']
  static override enableJsonFlag = true
  static override flags = { port: portFlag }

  async run(): Promise<BrokerStatus> {
    const { flags } = await this.parse(LocalStatus)
    const status = await brokerStatus({ port: flags.port })
    if (!this.jsonEnabled()) {
      const state = status.running ? this.out.paint.green('running') : this.out.paint.yellow('not running')
      this.out.data(`${state}  ${status.bootstrap}`)
      if (status.running) this.out.data(`pid ${status.pid}, Kafka ${status.kafkaVersion}, since ${status.startedAt}`)
      this.out.data(`data ${status.dataDir}`)
    }
    return status
  }
}
