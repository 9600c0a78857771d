/**
 * Names for shell completion (`es __complete <kind> [prefix]`, called by the script of
 * `es completion bash|zsh`): topics and consumer groups of the cluster of the current profile,
 * and the profiles, services and projections of the config. A shell waits on this, so the
 * cluster gets a short deadline (~1 s): a slow or unreachable cluster completes nothing rather
 * than hang the prompt, and no error is ever raised to the shell.
 */
import type { ResolvedConfig } from '../config/types.js'
import { withAdmin } from '../kafka/admin-client.js'

export const COMPLETION_KINDS = ['topics', 'groups', 'profiles', 'services', 'projections'] as const
export type CompletionKind = (typeof COMPLETION_KINDS)[number]

export const COMPLETION_DEADLINE_MS = 1000

export async function completionNames(
  config: ResolvedConfig,
  kind: CompletionKind,
  prefix = '',
  deadlineMs = COMPLETION_DEADLINE_MS,
): Promise<string[]> {
  const names = await withinDeadline(namesOf(config, kind, deadlineMs), deadlineMs)
  return names.filter((name) => name.startsWith(prefix)).sort()
}

async function namesOf(config: ResolvedConfig, kind: CompletionKind, deadlineMs: number): Promise<string[]> {
  switch (kind) {
    case 'profiles':
      return config.profiles.map((p) => p.name)
    case 'services':
      return Object.keys(config.services)
    case 'projections':
      return [...new Set(Object.values(config.services).flatMap((s) => Object.keys(s.projections)))]
    case 'topics':
    case 'groups': {
      // The connection's own timeout shortened to the deadline: connecting is most of the wait.
      const connection = {
        ...config.kafka,
        connectionTimeoutMs: Math.min(config.kafka.connectionTimeoutMs, deadlineMs),
      }
      return withAdmin(connection, `listing ${kind}`, async (admin) =>
        kind === 'topics'
          ? (await admin.listTopics()).filter((t) => !t.startsWith('_'))
          : (await admin.listGroups()).groups.map((g) => g.groupId),
      )
    }
  }
}

/** The names, or none when the deadline passes or anything fails (a shell shows no error). */
function withinDeadline(work: Promise<string[]>, ms: number): Promise<string[]> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve([]), ms)
    timer.unref()
    work.then(
      (names) => {
        clearTimeout(timer)
        resolve(names)
      },
      () => {
        clearTimeout(timer)
        resolve([])
      },
    )
  })
}
