/**
 * What `es send-command` shows: the sent line, the outcome, the batch summary (stderr), the
 * events caused (stdout), and the record shown before an interactive send.
 */
import type { ChalkInstance } from 'chalk'
import type { DecodedEvent } from '../envelope/index.js'
import type { BatchResult } from '../send/batch.js'
import type { SendResult, SentRecord } from '../send/send-command.js'
import type { Output } from './output.js'
import { formatRecord } from './records.js'

export function renderSend(out: Output, result: SendResult): void {
  const { paint } = out
  if (result.dryRun) {
    out.data(JSON.stringify(result.record, null, 2))
    out.info(`dry run: nothing was produced (command id ${result.commandId})`)
    return
  }
  if (result.cancelled) {
    out.info('cancelled: nothing was produced')
    return
  }
  out.info(
    `${paint.green('sent')} ${result.type} ${result.commandId} to ${result.record.topic}/${result.partition}@${result.offset} key ${result.record.key ?? '(none)'}`,
  )
  if (result.outcome) {
    out.info(
      result.outcome === 'accepted'
        ? paint.green(`accepted: ${result.events?.length} event(s)`)
        : paint.red(`rejected: ${result.events?.map((e) => e.type).join(', ')}`),
    )
  }
}

/** `sent N commands to topic (P partitions) in 1.2 s, 83000/s`, then the outcome counts. */
export function renderBatch(out: Output, result: BatchResult): void {
  const { paint } = out
  out.info(
    `sent ${result.sent} commands to ${result.topic} (${result.partitions} partitions) in ${(result.durationMs / 1000).toFixed(1)} s, ${result.commandsPerSecond}/s`,
  )
  if (result.accepted === undefined) return
  const counts = `accepted ${result.accepted}, rejected ${result.rejected}, timed out ${result.timedOut}`
  out.info(result.rejected || result.timedOut ? paint.red(counts) : paint.green(counts))
  for (const rejection of result.rejections ?? []) out.info(`rejected ${rejection.id}: ${rejection.event}`)
}

/** The exit code of a send: 1 when a command was rejected, 4 when an outcome never came. */
export function sendExitCode(result: { outcome?: string; rejected?: number; timedOut?: number }): number {
  if (result.outcome === 'rejected' || (result.rejected ?? 0) > 0) return 1
  return (result.timedOut ?? 0) > 0 ? 4 : 0
}

export function eventLine(event: DecodedEvent, paint: ChalkInstance): string | Buffer {
  return formatRecord(
    { ...event, value: event.payload, key: event.key, headers: Object.entries(event.headers) },
    'pretty',
    paint,
  )
}

export function confirmSummary(record: SentRecord): string {
  return `topic ${record.topic}\nkey ${record.key}\nheaders ${JSON.stringify(record.headers)}\nvalue ${record.value}`
}
