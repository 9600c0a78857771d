import { EsCommand } from '../../src/cli/base-command.js'
import { portFlag } from '../../src/cli/flags.js'
import { stopBroker } from '../../src/local/broker.js'

interface StopResult {
  port: number
  wasRunning: boolean
  pid?: number
}

export default class LocalStop extends EsCommand<StopResult> {
  static override summary = 'Stop the local Kafka broker and free its port.'
  static override examples = ['<%= config.bin %> local stop', '<%= config.bin %> local stop --port 19092']
  static override enableJsonFlag = true
  static override flags = { port: portFlag }

  async run(): Promise<StopResult> {
    const { flags } = await this.parse(LocalStop)
    const result = { port: flags.port, ...(await stopBroker({ port: flags.port })) }
    this.out.info(
      result.wasRunning
        ? `stopped Kafka on port ${flags.port} (pid ${result.pid})`
        : `no local Kafka was running on port ${flags.port}`,
    )
    return result
  }
}
