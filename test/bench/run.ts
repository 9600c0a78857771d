/**
 * `npm run bench`: es against reference tools on the same broker, in one run.
 *
 * Starts a throw-away broker, loads N JSON events (~200 bytes, M aggregates, 4 partitions) with the
 * sample bank service's load generator, then alternates, round by round:
 *   - replay:   `kcat -C -o beginning -e -q > /dev/null`  vs  `es replay --from-beginning` (bank reducer)
 *   - tail:     `kcat -C -o beginning -c 1`               vs  `es tail --from beginning --limit 1`
 *   - send:     `kcat -P` (one message)                   vs  `es send-command DepositFunds`
 *   - start-up: `node -e 0`                               vs  `es --version`
 * and measures the peak RSS of three file-backed replays (the highest is reported). Prints medians and ratios; writes
 * bench-results.json. Not part of the tests: nothing here asserts on timings.
 *
 *   node dist/test/bench/run.js [--events 1000000] [--aggregates 100000] [--rounds 5]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, startBroker, stopBroker } from '../../src/local/broker.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const esBin = join(root, 'bin/run.js')
const loadgen = join(root, 'dist/examples/bank/loadgen.js')
const reducer = join(root, 'examples/bank/reducer.js')

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`)
  return index >= 0 ? Number(process.argv[index + 1]) : fallback
}

const events = option('events', 1_000_000)
const aggregates = option('aggregates', 100_000)
const rounds = option('rounds', 5)
const partitions = 4

interface Timing {
  ms: number
  code: number
  stderr: string
}

/** Runs a command to completion, stdout to /dev/null unless captured; wall time in ms. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code: code ?? 1, stderr })
    })
  })
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function ensureKcat(): void {
  if (spawnSync('kcat', ['-V']).status === 0) return
  process.stderr.write('installing kcat (Debian package)…\n')
  execFileSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat'], {
    stdio: 'inherit',
  })
}

async function main(): Promise<void> {
  ensureKcat()
  const home = await mkdtemp(join(tmpdir(), 'es-bench-'))
  const port = await freePort()
  const brokers = `127.0.0.1:${port}`
  const results: Record<string, unknown> = { events, aggregates, partitions, rounds, date: new Date().toISOString() }
  try {
    process.stderr.write(`starting a broker on ${brokers}…\n`)
    await startBroker({ port, home })
    const topic = 'bench.events'
    const commandsTopic = 'bench.commands'
    const load = await timed(process.execPath, [
      loadgen,
      '--brokers',
      brokers,
      '--events',
      String(events),
      '--accounts',
      String(aggregates),
      '--partitions',
      String(partitions),
      '--topic',
      topic,
    ])
    if (load.code !== 0) throw new Error(`loadgen failed: ${load.stderr}`)
    process.stderr.write(`loaded ${events} events in ${(load.ms / 1000).toFixed(1)}s\n`)
    results.loadMs = load.ms

    const config = join(home, 'es.config.yaml')
    await writeFile(
      config,
      [
        `brokers: ${brokers}`,
        'services:',
        '  bench:',
        `    streams: { commands: ${commandsTopic}, events: ${topic}, snapshots: bench.snapshots }`,
        '    codec: { key: string, value: json }',
        '    envelope: { type: $.type, id: $.id, causationId: $.causationId, aggregateId: key, version: $.version, timestamp: $.timestamp, payload: $.data }',
        '    commands:',
        '      DepositFunds:',
        '        schema: { type: object, required: [amount], properties: { amount: { type: number, exclusiveMinimum: 0 } } }',
        '    projections:',
        `      accounts: { reducer: ${reducer} }`,
        '',
      ].join('\n'),
    )
    const esEnv = { ES_CONFIG: config, NO_COLOR: '1' }
    // Warm the page cache and the broker once before measuring.
    await timed('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q'])
    await timed('kcat', ['-P', '-b', brokers, '-t', commandsTopic, '-k', 'acc-0'], {})

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
    const check = (name: string, timing: Timing) => {
      if (timing.code !== 0) throw new Error(`${name} exited ${timing.code}: ${timing.stderr.trim().split('\n').pop()}`)
      return timing.ms
    }
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`round ${round}/${rounds}\n`)
      samples.kcatDump.push(
        check('kcat', await timed('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q'])),
      )
      samples.esReplay.push(
        check(
          'es replay',
          await timed(
            process.execPath,
            [esBin, 'replay', '--from-beginning', '--projection', 'accounts', '--state', 'memory'],
            esEnv,
          ),
        ),
      )
      samples.kcatFirst.push(
        check('kcat -c 1', await timed('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-c', '1', '-q'])),
      )
      samples.esTailFirst.push(
        check(
          'es tail',
          await timed(
            process.execPath,
            [esBin, 'tail', 'events', '--from', 'beginning', '--limit', '1', '--format', 'raw'],
            esEnv,
          ),
        ),
      )
      samples.kcatProduce.push(
        check(
          'kcat -P',
          await timedWithInput(
            'kcat',
            ['-P', '-b', brokers, '-t', commandsTopic, '-k', `acc-${round}`],
            '{"id":"x","type":"DepositFunds","data":{"amount":1}}\n',
          ),
        ),
      )
      samples.esSend.push(
        check(
          'es send-command',
          await timed(
            process.execPath,
            [esBin, 'send-command', 'DepositFunds', '--key', `acc-${round}`, '--data', '{"amount":1}'],
            esEnv,
          ),
        ),
      )
      samples.nodeStart.push(check('node -e 0', await timed(process.execPath, ['-e', '0'])))
      samples.esVersion.push(check('es --version', await timed(process.execPath, [esBin, '--version'])))
    }

    // Peak RSS varies with GC timing: three fresh file-backed replays, the highest peak reported.
    const rssSamplesMb: number[] = []
    for (let run = 1; run <= 3; run++) {
      const stateFile = join(home, `replay-state-${run}.db`)
      const rss = await timed(
        '/usr/bin/time',
        [
          '-f',
          '%M',
          '-o',
          join(home, 'rss.txt'),
          process.execPath,
          esBin,
          'replay',
          '--from-beginning',
          '--projection',
          'accounts',
          '--state',
          stateFile,
        ],
        esEnv,
      )
      check('file-backed replay', rss)
      rssSamplesMb.push(Number((await readFile(join(home, 'rss.txt'), 'utf8')).trim().split('\n').pop()) / 1024)
    }
    const peakRssMb = Math.max(...rssSamplesMb)

    const m = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]))
    const rows: Array<[string, string, string, string, string]> = [
      [
        `replay ${events.toLocaleString('en-US')} events`,
        `${fmt(m.kcatDump)} (${rate(events, m.kcatDump)})`,
        `${fmt(m.esReplay)} (${rate(events, m.esReplay)})`,
        `${(m.kcatDump / m.esReplay).toFixed(2)}× kcat's throughput`,
        '≥ 0.5×',
      ],
      [
        'tail: time to first record',
        fmt(m.kcatFirst),
        fmt(m.esTailFirst),
        `${(m.esTailFirst / m.kcatFirst).toFixed(2)}× kcat's time`,
        '≤ 2×',
      ],
      [
        'send one command/message',
        fmt(m.kcatProduce),
        fmt(m.esSend),
        `${(m.esSend / m.kcatProduce).toFixed(2)}× kcat's time`,
        '≤ 2×',
      ],
      [
        'start-up',
        `${fmt(m.nodeStart)} (node -e 0)`,
        `${fmt(m.esVersion)} (es --version)`,
        `${(m.esVersion / m.nodeStart).toFixed(2)}× node's`,
        '≤ 3×',
      ],
      [
        'file-backed replay peak RSS (max of 3)',
        '',
        `${peakRssMb.toFixed(0)} MB (${rssSamplesMb.map((v) => v.toFixed(0)).join(', ')})`,
        '',
        '≤ 300 MB',
      ],
    ]
    Object.assign(results, { samplesMs: samples, mediansMs: m, peakRssMb, rssSamplesMb })
    const header: [string, string, string, string, string] = [
      'measure',
      'reference (median)',
      'es (median)',
      'ratio',
      'target',
    ]
    const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)))
    const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')
    process.stdout.write(
      `\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
    )
    process.stdout.write(
      `\n${rounds} rounds, ${partitions} partitions, ${aggregates.toLocaleString('en-US')} aggregates; kcat ${kcatVersion()}\n`,
    )
    await writeFile(join(root, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`)
  } finally {
    await stopBroker({ port, home }).catch(() => {})
    await rm(home, { recursive: true, force: true })
  }
}

function timedWithInput(command: string, args: string[], input: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code: code ?? 1, stderr }),
    )
    child.stdin.end(input)
  })
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`
}

function rate(count: number, ms: number): string {
  return `${Math.round((count * 1000) / ms).toLocaleString('en-US')}/s`
}

function kcatVersion(): string {
  const out = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout ?? ''
  return /^Version (\S+)/m.exec(out)?.[1] ?? out.split('\n')[0]
}

await main()
