/**
 * The second thread of `es send-command --batch` pass 1 (src/send/batch.ts): encodes the lines of
 * the second half of a large file into its own spool, with the service's runtime of its own, and
 * numbers them from the line ends before its half, so its errors name the line as the main
 * thread's would.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { ResolvedConfig } from '../config/types.js'
import { type ThreadError, toThreadError } from '../errors.js'
import { openRuntime } from '../service/runtime.js'
import { encodeCommands, type LineSource, linesBefore } from './batch-encode.js'
import { commandPreparer } from './prepare.js'

export interface EncodeWorkerInput {
  config: ResolvedConfig
  service?: string
  topic?: string
  type?: string
  /** From `start` to the end of the file. */
  source: LineSource & { start: number }
  spool: string
  collectIds: boolean
}

export type EncodeWorkerMessage = { kind: 'done'; count: number; ids: string[] } | ({ kind: 'error' } & ThreadError)

const post = (message: EncodeWorkerMessage) => parentPort?.postMessage(message)

async function main(input: EncodeWorkerInput): Promise<void> {
  const runtime = openRuntime(input.config, input.service)
  try {
    const preparer = commandPreparer(runtime, input.topic)
    const ids: string[] = []
    const firstLine = await linesBefore(input.source.file, input.source.start)
    const count = await encodeCommands(
      { ...input.source, firstLine },
      input.spool,
      preparer.prepare,
      input.type,
      input.collectIds ? (id) => ids.push(id) : undefined,
    )
    post({ kind: 'done', count, ids })
  } finally {
    await runtime.close()
  }
}

main(workerData as EncodeWorkerInput).catch((error: unknown) => {
  post({ kind: 'error', ...toThreadError(error, 'a --batch worker') })
})
