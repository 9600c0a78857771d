/**
 * No secret in any output or file: every command that connects (and the dry runs) runs against a
 * SASL_SSL listener (SASL PLAIN, the mechanism that sends the password itself) with the right and
 * a wrong Kafka password, and, where a registry is configured, the fake schema registry with the
 * right and a wrong password; each with --verbose, and with --verbose --json where the command has
 * --json. Each run gets a fresh working directory that is also its HOME, ES_HOME and TMPDIR; its
 * stdout, stderr and every file in that directory afterwards are searched for each secret as text,
 * hex and base64 (at all three byte alignments, so also inside `Basic <base64 user:password>`).
 * Whether a run succeeds does not matter here, only what it shows.
 */
import assert from 'node:assert/strict'
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { type EsRun, runEs } from '../support/cli.js'
import { type FakeRegistry, startFakeRegistry } from '../support/fake-registry.js'
import { kcatProduce } from '../support/kcat.js'
import { type SecuredBroker, startSecuredBroker } from '../support/secured-broker.js'
import { tempDir } from '../support/temp-dir.js'

const REGISTRY_USER = 'reg-user'
const REGISTRY_PASSWORD = 'R3gistry-S3cret-q7w'
const WRONG_KAFKA_PASSWORD = 'Wr0ng-kafka-S3cret-x9v'
const WRONG_REGISTRY_PASSWORD = 'Wr0ng-registry-S3cret-z4k'

/** The secret as text, hex, and base64 / base64url at each of the three byte alignments. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  const forms = new Set([secret, bytes.toString('hex'), bytes.toString('hex').toUpperCase()])
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64')
    // Only the characters that depend on the secret's bytes alone.
    const core = encoded.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + bytes.length)) / 6))
    forms.add(core)
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'))
  }
  return [...forms]
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile()) out.push(path)
  }
  return out
}

describe('no secret in any output or file', () => {
  let broker: SecuredBroker
  let registry: FakeRegistry
  let root: string
  let runs = 0
  const kafkaPassword = () => broker.users.plain[1]

  before(async () => {
    root = await tempDir('es-scan-')
    // The read model of the bank config, copied into each run's directory.
    const db = new Database(join(root, 'accounts.db'))
    db.exec('create table accounts (id text primary key, owner text)')
    db.close()
    ;[broker, registry] = await Promise.all([
      startSecuredBroker(),
      startFakeRegistry({ credentials: { username: REGISTRY_USER, password: REGISTRY_PASSWORD } }),
    ])
    registry.schemas.set(1, { schema: '{"type":"record","name":"N","fields":[{"name":"n","type":"int"}]}' })
    const plain = `127.0.0.1:${broker.ports.plain}`
    await kcatProduce(plain, 'scan.events', [
      ['a1', '{"type":"Opened","id":"e1","data":{"owner":"ada"}}'],
      ['a2', '{"type":"Opened","id":"e2","data":{"owner":"bob"}}'],
    ])
    await kcatProduce(plain, 'scan.snapshots', [['a1', '{"owner":"ada"}']])
    await kcatProduce(plain, 'scan.commands', [['a0', '{"type":"Open","id":"c0","data":{}}']])
    // Confluent framing (magic 0, schema id 1) around the Avro datum of {"n": 1}.
    await kcatProduce(plain, 'scan.avro', [['a1', '\u0000\u0000\u0000\u0000\u0001\u0002']])
  })

  after(async () => {
    await Promise.all([broker?.stop(), registry?.close()])
  })

  function config(registryConfigured: boolean): string {
    const connection = [
      `brokers: 127.0.0.1:${broker.ports.saslSsl}`,
      `ssl: { ca: "${broker.files.ca}" }`,
      `sasl: { mechanism: plain, username: ${broker.users.plain[0]}, password: "\${KAFKA_PASSWORD}" }`,
      'connectionTimeout: 5s',
    ]
    if (registryConfigured) {
      return [
        ...connection,
        `schemaRegistry: { url: "${registry.url}", username: ${REGISTRY_USER}, password: "\${REG_PASSWORD}" }`,
        'services:',
        '  avro:',
        '    streams: { commands: scan.commands, events: scan.avro, snapshots: scan.avro }',
        '    codec: { key: string, value: { type: avro-confluent, schemaId: 1 } }',
        '    envelope: { type: none, id: none, causationId: none, version: none, timestamp: timestamp, payload: $ }',
        '    commands: { Ping: { schema: { type: object } } }',
        '    projections: { latest: { reducer: latest } }',
      ].join('\n')
    }
    return [
      ...connection,
      'services:',
      '  bank:',
      '    streams: { commands: scan.commands, events: scan.events, snapshots: scan.snapshots }',
      '    envelope: { payload: $.data }',
      '    commands: { Open: { schema: { type: object } } }',
      '    projections:',
      '      accounts: { reducer: latest, readModel: { type: sqlite, file: ./accounts.db, table: accounts } }',
    ].join('\n')
  }

  /** Runs `args` in a fresh directory and fails if any secret shows up in its output or files. */
  async function scan(
    args: string[],
    options: { registry: boolean; kafkaPassword: string; registryPassword?: string },
  ): Promise<EsRun> {
    const cwd = join(root, `run-${++runs}`)
    await mkdir(join(cwd, 'tmp'), { recursive: true })
    await writeFile(join(cwd, 'es.config.yaml'), `${config(options.registry)}\n`, { mode: 0o600 })
    await copyFile(join(root, 'accounts.db'), join(cwd, 'accounts.db'))
    const run = await runEs(args, {
      cwd,
      env: {
        ES_CONFIG: undefined,
        ES_BROKERS: undefined,
        HOME: cwd,
        ES_HOME: join(cwd, '.es'),
        TMPDIR: join(cwd, 'tmp'),
        KAFKA_PASSWORD: options.kafkaPassword,
        REG_PASSWORD: options.registryPassword ?? REGISTRY_PASSWORD,
      },
      timeoutMs: 60_000,
    })
    const secrets = [kafkaPassword(), WRONG_KAFKA_PASSWORD, REGISTRY_PASSWORD, WRONG_REGISTRY_PASSWORD]
    const places: Array<[string, Buffer]> = [
      ['stdout', Buffer.from(run.stdout)],
      ['stderr', Buffer.from(run.stderr)],
    ]
    for (const file of await filesUnder(cwd)) places.push([file, await readFile(file)])
    for (const secret of secrets) {
      for (const form of secretForms(secret)) {
        for (const [place, content] of places) {
          assert.ok(
            !content.includes(form),
            `es ${args.join(' ')}: ${secret === form ? secret : `${secret} as ${form}`} found in ${place}\n${run.stderr}`,
          )
        }
      }
    }
    return run
  }

  /**
   * Every variant: right and wrong Kafka password (and registry password), --verbose, and
   * --verbose --json where there is --json. With the right passwords the run gets past connecting
   * (exit `ok`); a wrong one is refused (exit 4): so each run did reach the broker and registry.
   */
  async function scanAll(
    args: string[],
    options: { json: boolean; registry?: boolean; ok?: number[]; registryRefused?: number[] },
  ): Promise<void> {
    const registry = options.registry ?? false
    const variants = options.json ? [['--verbose'], ['--verbose', '--json']] : [['--verbose']]
    const passwords: Array<{ kafkaPassword: string; registryPassword?: string; code: number[] }> = [
      { kafkaPassword: kafkaPassword(), code: options.ok ?? [0] },
      { kafkaPassword: WRONG_KAFKA_PASSWORD, code: [4] },
    ]
    if (registry) {
      passwords.push({
        kafkaPassword: kafkaPassword(),
        registryPassword: WRONG_REGISTRY_PASSWORD,
        code: options.registryRefused ?? [4, 5],
      })
    }
    for (const flags of variants) {
      for (const { code, ...password } of passwords) {
        const run = await scan([...args, ...flags], { registry, ...password })
        assert.ok(
          code.includes(run.code),
          `es ${[...args, ...flags].join(' ')} ${JSON.stringify(password)}: exit ${run.code}\n${run.stderr}`,
        )
      }
    }
  }

  it('finds the secret forms it looks for (the check itself can fail)', () => {
    const forms = secretForms('user:pa55word-x')
    assert.ok(forms.includes('user:pa55word-x'))
    assert.ok(forms.includes(Buffer.from('user:pa55word-x').toString('hex')))
    const basic = Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString('base64')
    assert.ok(
      secretForms(REGISTRY_PASSWORD).some((form) => basic.includes(form)),
      'a password inside Basic auth is found',
    )
  })

  it('the scan fails a run that prints a secret', async () => {
    // A dry run prints the record it would send: here one whose payload holds the password.
    await assert.rejects(
      scan(
        ['send-command', 'Open', '--key', 'a9', '--data', JSON.stringify({ p: WRONG_KAFKA_PASSWORD }), '--dry-run'],
        {
          registry: false,
          kafkaPassword: kafkaPassword(),
        },
      ),
      /found in stdout/,
    )
  })

  it('es tail', async () => {
    const right = await scan(['tail', 'events', '-e', '--format', 'ndjson', '--verbose'], {
      registry: false,
      kafkaPassword: kafkaPassword(),
    })
    assert.equal(right.code, 0, right.stderr)
    assert.equal(right.stdout.trim().split('\n').length, 2, 'the right password reads the records')
    const wrong = await scan(['tail', 'events', '-e', '--verbose'], {
      registry: false,
      kafkaPassword: WRONG_KAFKA_PASSWORD,
    })
    assert.equal(wrong.code, 4, wrong.stderr)
    // Records the registry does not let us decode are shown with their error (exit 0).
    await scanAll(['tail', 'events', '-e', '--format', 'json'], { json: false, registry: true, registryRefused: [0] })
  })

  it('es replay', async () => {
    await scanAll(
      ['replay', '--from-beginning', '--projection', 'accounts', '--state', 'state.db', '--out', 'out.json'],
      { json: true },
    )
    await scanAll(['replay', '--from-beginning', '--projection', 'latest', '--out', 'out.ndjson'], {
      json: true,
      registry: true,
    })
  })

  it('es snapshots', async () => {
    await scanAll(['snapshots'], { json: true })
    await scanAll(['snapshots', 'a1', '--history'], { json: true, registry: true, registryRefused: [0, 4, 5] })
  })

  it('es rebuild-projection (and --dry-run) and es diff', async () => {
    await scanAll(['rebuild-projection', 'accounts', '--dry-run'], { json: true })
    await scanAll(['rebuild-projection', 'accounts', '--yes'], { json: true })
    // Each run has a read model of its own, empty: drift (exit 1).
    await scanAll(['diff', 'accounts'], { json: true, ok: [1] })
  })

  it('es checkpoints (and a reset dry run)', async () => {
    // No such group: nothing committed, after connecting.
    await scanAll(['checkpoints', 'scan-group', '--topic', 'scan.events'], { json: true, ok: [0, 6] })
    await scanAll(['checkpoints', 'scan-group', '--topic', 'scan.events', '--reset-to', 'beginning'], {
      json: true,
      ok: [0, 6],
    })
  })

  it('es send-command (and --dry-run, --wait)', async () => {
    // A dry run does not connect to Kafka, so a wrong Kafka password passes (exit 0); the Avro
    // command's dry run fetches its schema from the registry, so a wrong registry password fails.
    for (const flags of [['--verbose'], ['--verbose', '--json']]) {
      const dryRun = (type: string) => ['send-command', type, '--key', 'a9', '--data', '{}', '--dry-run', ...flags]
      for (const password of [kafkaPassword(), WRONG_KAFKA_PASSWORD]) {
        for (const [type, registry] of [
          ['Open', false],
          ['Ping', true],
        ] as const) {
          const run = await scan(dryRun(type), { registry, kafkaPassword: password })
          // Exit 5 "schema id 1 is not loaded": encoding with avro-confluent does not fetch the
          // schema yet (issue 8, item 1); the scan still covers what the run shows.
          assert.ok(run.code === 0 || (registry && run.code === 5), run.stderr)
        }
      }
      const refused = await scan(dryRun('Ping'), {
        registry: true,
        kafkaPassword: kafkaPassword(),
        registryPassword: WRONG_REGISTRY_PASSWORD,
      })
      assert.ok([4, 5].includes(refused.code), refused.stderr)
    }
    await scanAll(['send-command', 'Open', '--key', 'a9', '--data', '{}'], { json: true })
    // Nothing processes the command: --wait times out (exit 4) after producing it.
    await scanAll(['send-command', 'Open', '--key', 'a9', '--data', '{}', '--wait', '--timeout', '1s'], {
      json: true,
      ok: [4],
    })
  })
})
