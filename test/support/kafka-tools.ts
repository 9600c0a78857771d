/**
 * Kafka's own command-line tools (the jars `es local` caches), as an oracle independent of kafkajs
 * and of es: what `kafka-topics`, `kafka-get-offsets` and `kafka-consumer-groups` print.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { javaArgs, kafkaLibDir } from '../../src/local/jars.js'

const execFileAsync = promisify(execFile)

export async function kafkaTool(mainClass: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('java', javaArgs(kafkaLibDir(), mainClass, args, '-Xmx256m'), {
    timeout: 120_000,
    maxBuffer: 64 << 20,
  })
  return stdout
}

/** `kafka-get-offsets --time <-1|-2>`: offset per `topic:partition`. */
export async function toolOffsets(brokers: string, topicRegex: string, time: -1 | -2): Promise<Map<string, number>> {
  const out = await kafkaTool('org.apache.kafka.tools.GetOffsetShell', [
    '--bootstrap-server',
    brokers,
    '--topic',
    topicRegex,
    '--time',
    String(time),
  ])
  const offsets = new Map<string, number>()
  for (const line of out.split('\n').filter((l) => l.trim() !== '')) {
    const at = line.lastIndexOf(':')
    offsets.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return offsets
}
