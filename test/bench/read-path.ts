/**
 * The read path and instant commands, round by round against their references:
 *   - replay:   `kcat -C -o beginning -e -q > /dev/null`  vs  `es replay --from-beginning` (bank reducer, in memory)
 *   - tail:     `kcat -C -o beginning -c 1`; `node -e 0`  vs  `es tail --from beginning --limit 1`
 *   - send:     `kcat -P` (one message); `node -e 0`       vs  `es send-command DepositFunds`
 *   - start-up: `node -e 0`                               vs  `es --version`
 */
import {
  type BenchContext,
  check,
  fmt,
  kcatDump,
  median,
  type Row,
  rate,
  type SectionResult,
  timed,
  timedEs,
} from './support.js'

export async function readPath(context: BenchContext, events: number, aggregates: number): Promise<SectionResult> {
  const { brokers } = context
  const topic = await context.bankTopic(events, aggregates)
  const config = await context.bankConfig(topic)
  const commandsTopic = `${topic}.commands`
  const env = { ES_CONFIG: config }
  // Warm the page cache and the broker once before measuring.
  await kcatDump(brokers, topic)
  await timed('kcat', ['-P', '-b', brokers, '-t', commandsTopic, '-k', 'acc-0'], { input: '{}\n' })

  const samples: Record<string, number[]> = {
    kcatDump: [],
    esReplay: [],
    kcatFirst: [],
    esTailFirst: [],
    kcatProduce: [],
    esSend: [],
    nodeStart: [],
    esVersion: [],
  }
  for (let round = 1; round <= context.rounds; round++) {
    context.log(`read path: round ${round}/${context.rounds}`)
    samples.kcatDump.push(check('kcat', await kcatDump(brokers, topic)))
    samples.esReplay.push(
      check(
        'es replay',
        await timedEs(['replay', '--from-beginning', '--projection', 'accounts', '--state', 'memory'], { env }),
      ),
    )
    samples.kcatFirst.push(
      check('kcat -c 1', await timed('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-c', '1', '-q'])),
    )
    samples.esTailFirst.push(
      check(
        'es tail',
        await timedEs(['tail', 'events', '--from', 'beginning', '--limit', '1', '--format', 'raw'], { env }),
      ),
    )
    samples.kcatProduce.push(
      check(
        'kcat -P',
        await timed('kcat', ['-P', '-b', brokers, '-t', commandsTopic, '-k', `acc-${round}`], {
          input: '{"id":"x","type":"DepositFunds","data":{"amount":1}}\n',
        }),
      ),
    )
    samples.esSend.push(
      check(
        'es send-command',
        await timedEs(['send-command', 'DepositFunds', '--key', `acc-${round}`, '--data', '{"amount":1}'], { env }),
      ),
    )
    samples.nodeStart.push(check('node -e 0', await timed(process.execPath, ['-e', '0'])))
    samples.esVersion.push(check('es --version', await timedEs(['--version'])))
  }
  const m = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]))
  const rows: Row[] = [
    [
      `replay ${events.toLocaleString('en-US')} events (in memory)`,
      `kcat ${fmt(m.kcatDump)} (${rate(events, m.kcatDump)})`,
      `${fmt(m.esReplay)} (${rate(events, m.esReplay)})`,
      `${(m.kcatDump / m.esReplay).toFixed(2)}× kcat's throughput`,
      'goal ≥ 0.5×',
    ],
    [
      'tail: time to first record',
      `node -e 0 ${fmt(m.nodeStart)}; kcat ${fmt(m.kcatFirst)}`,
      fmt(m.esTailFirst),
      `${(m.esTailFirst / m.nodeStart).toFixed(2)}× node's start (${(m.esTailFirst / m.kcatFirst).toFixed(1)}× kcat)`,
      '≤ 2× node',
    ],
    [
      'send one command, acknowledged',
      `node -e 0 ${fmt(m.nodeStart)}; kcat -P ${fmt(m.kcatProduce)}`,
      fmt(m.esSend),
      `${(m.esSend / m.nodeStart).toFixed(2)}× node's start (${(m.esSend / m.kcatProduce).toFixed(1)}× kcat)`,
      '≤ 2.5× node',
    ],
    [
      'start-up',
      `node -e 0 ${fmt(m.nodeStart)}`,
      `es --version ${fmt(m.esVersion)}`,
      `${(m.esVersion / m.nodeStart).toFixed(2)}× node's`,
      '≤ 1.5×',
    ],
  ]
  const pair = (es: number, reference: number) => ({ es, reference, ratio: es / reference })
  return {
    rows,
    results: {
      readPath: { samplesMs: samples, mediansMs: m },
      startup: pair(m.esVersion, m.nodeStart),
      tailFirstRecord: { ...pair(m.esTailFirst, m.nodeStart), kcat: m.kcatFirst },
      sendOne: { ...pair(m.esSend, m.nodeStart), kcat: m.kcatProduce },
      replay: { es: m.esReplay, kcat: m.kcatDump, ratio: m.kcatDump / m.esReplay },
    },
  }
}
