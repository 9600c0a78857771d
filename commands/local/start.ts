import { EsCommand } from '../../src/cli/base-command.js'
import { portFlag } from '../../src/cli/flags.js'
import { type StartResult, startBroker } from '../../src/local/broker.js'

export default class LocalStart extends EsCommand<StartResult> {
  static override summary = 'Start a single-node Apache Kafka broker on this machine.'
  static override description =
    'Runs Apache Kafka (KRaft, broker and controller in one JVM) from its jars on Maven Central, resolved once into ~/.cache/es. Returns when the broker accepts requests. Needs Java 17+ and Maven. State lives in ~/.es/local/<port> ($ES_HOME).'
  static override examples = ['<%= config.bin %> local start', '<%= config.bin %> local start --port 19092 --json']
  static override enableJsonFlag = true
  static override flags = { port: portFlag }

  async run(): Promise<StartResult> {
    const { flags } = await this.parse(LocalStart)
    const result = await startBroker({ port: flags.port, log: (line) => this.out.info(line) })
    if (!this.jsonEnabled()) {
      this.out.info(
        result.alreadyRunning
          ? `Kafka ${result.kafkaVersion} is already running (pid ${result.pid})`
          : `Kafka ${result.kafkaVersion} started in ${(result.startupMs / 1000).toFixed(1)}s (pid ${result.pid}, data ${result.dataDir})`,
      )
      this.out.data(result.bootstrap)
    }
    return result
  }
}
