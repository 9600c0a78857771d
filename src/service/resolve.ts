/**
 * Which service and which topics a command works on: `--service` (or the only service in the
 * config), a stream name (`commands`, `events`, `snapshots`) or a literal topic. Without a config,
 * a zero-config service reads any topic: keys as text, values as JSON when they parse (else text),
 * the default envelope.
 */
import { selectService } from '../config/load.js'
import { defaultEnvelope, type ResolvedConfig, type ServiceConfig, type StreamName } from '../config/types.js'
import { ConfigError } from '../errors.js'

const STREAMS: StreamName[] = ['commands', 'events', 'snapshots']

export function isStreamName(name: string): name is StreamName {
  return (STREAMS as string[]).includes(name)
}

/** The service to use; a zero-config service when the config defines none. */
export function resolveService(config: ResolvedConfig, name: string | undefined): ServiceConfig {
  return selectService(config, name) ?? zeroConfigService()
}

export function zeroConfigService(): ServiceConfig {
  return {
    name: '(zero-config)',
    streams: { commands: [], events: [], snapshots: [] },
    codec: { key: { type: 'string' }, value: { type: 'auto' } },
    envelope: { ...defaultEnvelope },
    commands: {},
    rejections: ['CommandRejected'],
    projections: {},
    partitioner: 'none',
  }
}

export function isZeroConfig(service: ServiceConfig): boolean {
  return service.name === '(zero-config)'
}

/**
 * Topics for a stream name or literal topic (`target`), or for `--topic` flags; `fallback` is the
 * stream used when neither is given.
 */
export function resolveTopics(
  service: ServiceConfig,
  target: string | undefined,
  topicFlags: string[] | undefined,
  fallback: StreamName,
): string[] {
  if (topicFlags && topicFlags.length > 0) return topicFlags
  const stream = target ?? fallback
  if (isStreamName(stream)) {
    const topics = service.streams[stream]
    if (topics.length === 0) {
      throw new ConfigError(
        `no ${stream} stream is configured${isZeroConfig(service) ? ' (no config file found)' : ` for service ${service.name}`}`,
        {
          code: 'NO_STREAM',
          suggestion: isZeroConfig(service)
            ? 'name a topic (es tail my.topic, or --topic) and --brokers, or create es.config.yaml (see README)'
            : `set services.${service.name}.streams.${stream} in the config`,
        },
      )
    }
    return topics
  }
  return [stream]
}
