/**
 * Replays as the log grows (the file-backed state issue): bank events over one aggregate per ten
 * events, `es replay --from-beginning --projection accounts` in memory and with `--state FILE`,
 * time and peak RSS, kcat's raw dump of the same topic beside. With `--scale`, also 10M events
 * over 5M aggregates, file-backed.
 */
import { join } from 'node:path'
import {
  type BenchContext,
  check,
  fmt,
  kcatDump,
  mb,
  median,
  type Row,
  type SectionResult,
  type Timing,
  timedEs,
} from './support.js'

interface SizeFigures {
  events: number
  aggregates: number
  kcatMs: number
  memoryMs?: number
  memoryPeakRssMb?: number
  fileMs: number
  filePeakRssMb: number
  fileUsPerEvent: number
}

export async function stateScale(context: BenchContext, runs: number): Promise<SectionResult> {
  const sizes: Array<[number, number, boolean]> = [
    [1_000_000, 100_000, true],
    [3_000_000, 300_000, true],
    [6_000_000, 600_000, true],
  ]
  if (context.scale) sizes.push([10_000_000, 5_000_000, false])
  const figures: SizeFigures[] = []
  for (const [events, aggregates, inMemory] of sizes) {
    const topic = await context.bankTopic(events, aggregates)
    const env = { ES_CONFIG: await context.bankConfig(topic) }
    await kcatDump(context.brokers, topic)
    const kcat: number[] = []
    const memory: Timing[] = []
    const file: Timing[] = []
    for (let run = 1; run <= runs; run++) {
      context.log(`state scale ${events.toLocaleString('en-US')} events: run ${run}/${runs}`)
      kcat.push(check('kcat', await kcatDump(context.brokers, topic)))
      const replay = ['replay', '--from-beginning', '--projection', 'accounts']
      if (inMemory) {
        const timing = await timedEs([...replay, '--state', 'memory'], { env, rss: join(context.home, 'rss') })
        check('in-memory replay', timing)
        memory.push(timing)
      }
      const state = join(context.home, `scale-${events}.db`)
      const timing = await timedEs([...replay, '--state', state], { env, rss: join(context.home, 'rss') })
      check('file-backed replay', timing)
      file.push(timing)
    }
    const fileMs = median(file.map((t) => t.ms))
    figures.push({
      events,
      aggregates,
      kcatMs: median(kcat),
      memoryMs: memory.length ? median(memory.map((t) => t.ms)) : undefined,
      memoryPeakRssMb: memory.length ? Math.max(...memory.map((t) => t.peakRssMb ?? 0)) : undefined,
      fileMs,
      filePeakRssMb: Math.max(...file.map((t) => t.peakRssMb ?? 0)),
      fileUsPerEvent: (fileMs * 1000) / events,
    })
  }
  const first = figures[0]
  const rows: Row[] = figures.map((f) => [
    `replay ${(f.events / 1e6).toFixed(0)}M events / ${(f.aggregates / 1e3).toFixed(0)}k aggregates`,
    `kcat ${fmt(f.kcatMs)}`,
    `${f.memoryMs === undefined ? '' : `memory ${fmt(f.memoryMs)}, ${mb(f.memoryPeakRssMb ?? 0)}; `}file ${fmt(f.fileMs)}, ${mb(f.filePeakRssMb)}, ${f.fileUsPerEvent.toFixed(1)} µs/event`,
    `${f.memoryMs === undefined ? '' : `file ${(f.memoryMs / f.fileMs).toFixed(2)}× memory's throughput; `}${f === first ? 'µs/event ±0 %' : `µs/event ${pct(f.fileUsPerEvent / first.fileUsPerEvent - 1)} vs 1M`}`,
    f === first ? 'file ≤ 256 MB; ≥ 0.6× memory' : 'file ≤ 256 MB; ±15 % µs/event',
  ])
  return { rows, results: { stateScale: figures } }
}

function pct(fraction: number): string {
  return `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(0)} %`
}
