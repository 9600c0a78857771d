/**
 * The config is validated against es.config.schema.json: unknown keys and wrong types are exit 3
 * naming the file and line, the path and what would be right; values that came from `${VAR}` are
 * named by their variable, never shown; flags and ES_* variables that override settings are
 * validated by the same schema and named when wrong (exit 2).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig, resolveConfig } from '../../src/config/load.js'
import { parseDuration } from '../../src/duration.js'
import { ConfigError, type EsError, ExitCode, UsageError } from '../../src/errors.js'
import { tempDir } from '../support/temp-dir.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')

async function loadYaml(text: string, options: { env?: NodeJS.ProcessEnv; name?: string } = {}) {
  const dir = await tempDir('es-config-')
  const file = join(dir, options.name ?? 'es.config.yaml')
  await writeFile(file, text)
  return loadConfig({ configPath: file, cwd: dir, env: options.env ?? {} })
}

/** The error a load throws; fails the test when it does not throw. */
async function loadError(load: Promise<unknown>): Promise<EsError> {
  try {
    await load
  } catch (error) {
    return error as EsError
  }
  assert.fail('the config was accepted')
}

function resolveError(raw: unknown, context: Partial<Parameters<typeof resolveConfig>[1]> = {}): EsError {
  try {
    resolveConfig(raw, { env: {}, ...context })
  } catch (error) {
    return error as EsError
  }
  assert.fail('the config was accepted')
}

/** `${NAME}` as written in a config file. */
const ref = (name: string) => `\${${name}}`

describe('config schema: unknown keys', () => {
  it('service: for services: is exit 3 naming the key, the file and line, and the nearest valid key', async () => {
    const error = await loadError(loadYaml(`brokers: localhost:9092\nservice:\n  bank: {}\n`))
    assert.ok(error instanceof ConfigError, String(error))
    assert.equal(error.exitCode, ExitCode.config)
    assert.equal(error.message, 'es.config.yaml:2: unknown key "service" at the top level')
    assert.match(error.suggestion ?? '', /^did you mean "services"\? valid keys here: brokers, clientId, /)
    assert.deepEqual({ line: error.where?.line, path: error.where?.path }, { line: 2, path: 'service' })
  })

  it('a nested typo names its path and the keys valid there', async () => {
    const error = await loadError(
      loadYaml(`services:\n  bank:\n    streams: { events: bank.events }\n    codc:\n      value: json\n`),
    )
    assert.equal(error.message, 'es.config.yaml:4: unknown key "codc" in services.bank')
    assert.match(error.suggestion ?? '', /^did you mean "codec"\? valid keys here: streams, codec, envelope, /)
  })

  it('an option of another codec is unknown for this one', () => {
    const error = resolveError({
      services: { s: { codec: { value: { type: 'avro', schema: 'a.avsc', schemaId: 3 } } } },
    })
    assert.equal(error.message, 'unknown key "schemaId" in services.s.codec.value')
    assert.match(error.suggestion ?? '', /valid keys here: type, schema, readerSchema$/)
  })

  it('an unknown envelope locator name and an unknown read-model option are refused', () => {
    assert.match(
      resolveError({ services: { s: { envelope: { aggregate: 'key' } } } }).message,
      /unknown key "aggregate" in services\.s\.envelope/,
    )
    const readModel = { type: 'sqlite', file: 'x.db', table: 't', tabel: 'u' }
    const error = resolveError({ services: { s: { projections: { p: { readModel } } } } })
    assert.equal(error.message, 'unknown key "tabel" in services.s.projections.p.readModel')
  })
})

describe('config files that are not YAML', () => {
  it('name the file and line, and for a variable in a flow mapping, the quoting', async () => {
    const flow = await loadError(
      loadYaml(`brokers: a:1\nsasl: { mechanism: plain, username: u, password: ${ref('P')} }\n`, { env: { P: 'x' } }),
    )
    assert.equal(flow.exitCode, ExitCode.config)
    assert.match(flow.message, /es\.config\.yaml:2: not valid YAML: /)
    assert.match(flow.suggestion ?? '', /quote values holding/)
    const duplicate = await loadError(loadYaml('brokers: a:1\nbrokers: b:2\n'))
    assert.match(duplicate.message, /es\.config\.yaml:2: not valid YAML: Map keys must be unique$/)
  })
})

describe('config schema: wrong types and values', () => {
  it('a wrong type names the path and the types allowed', async () => {
    const error = await loadError(loadYaml('brokers: 9092\n'))
    assert.equal(error.exitCode, ExitCode.config)
    assert.equal(error.message, 'es.config.yaml:1: brokers must be text or a list')
    assert.match(error.suggestion ?? '', /host:port/)
    assert.equal(resolveError({ services: [] }).message, 'services must be a mapping (key: value)')
    assert.equal(resolveError({ services: { s: { rejections: 'X' } } }).message, 'services.s.rejections must be a list')
  })

  it('a duration that is not one says what a duration is', () => {
    const error = resolveError({ connectionTimeout: '10 sec' })
    assert.equal(error.message, 'connectionTimeout: "10 sec" is not valid here')
    assert.match(error.suggestion ?? '', /^A duration: <number><unit> with units ms, s, m, h, d, w/)
  })

  it('an unknown codec names the codecs and the nearest one', async () => {
    const error = await loadError(loadYaml('services:\n  bank:\n    codec:\n      key: string\n      value: jsn\n'))
    assert.match(
      error.message,
      /^es\.config\.yaml:5: services\.bank\.codec\.value must be one of auto, string, bytes, json, avro, .*protobuf.* \(got "jsn"\)$/,
    )
    assert.equal(error.suggestion, 'did you mean json?')
  })

  it('a codec missing its schema, and avro written as a name, say what they need', () => {
    const missing = resolveError({ services: { s: { codec: { value: { type: 'avro' } } } } })
    assert.equal(missing.message, 'services.s.codec.value needs "schema"')
    assert.match(missing.suggestion ?? '', /\.avsc/)
    const bare = resolveError({ services: { s: { codec: { value: 'avro' } } } })
    assert.equal(bare.message, 'services.s.codec.value: "avro" is not allowed here')
    assert.match(bare.suggestion ?? '', /\{type: avro, schema: \.\/Cmd\.avsc\}/)
    const protobuf = resolveError({ services: { s: { codec: { value: { type: 'protobuf', protos: 'a.proto' } } } } })
    assert.equal(protobuf.message, 'services.s.codec.value needs "messageType"')
  })

  it('a read model of an unknown type, and one missing its table', () => {
    const unknown = resolveError({ services: { s: { projections: { p: { readModel: { type: 'mysql' } } } } } })
    assert.equal(
      unknown.message,
      'services.s.projections.p.readModel.type must be one of sqlite, postgres, http, topic (got "mysql")',
    )
    const table = resolveError({
      services: { s: { projections: { p: { readModel: { type: 'sqlite', file: 'x.db' } } } } },
    })
    assert.equal(table.message, 'services.s.projections.p.readModel needs "table"')
  })

  it('a JSON config is located by line too', async () => {
    const json =
      '{\n  "brokers": "localhost:9092",\n  "services": {\n    "bank": { "partitioner": "murmur3" }\n  }\n}\n'
    const error = await loadError(loadYaml(json, { name: 'es.config.json' }))
    assert.match(
      error.message,
      /^es\.config\.json:4: services\.bank\.partitioner must be one of murmur2, crc32, consistent_random, none \(got "murmur3"\)$/,
    )
    assert.equal(error.suggestion, 'did you mean murmur2?')
  })
})

describe('config values from environment variables', () => {
  const secret = 'hunter2-s3cr3t'

  it('an error about an interpolated value names the variable, never its value', async () => {
    const text = `sasl:\n  mechanism: ${ref('KAFKA_PASSWORD')}\n  username: ops\n  password: ${ref('KAFKA_USER')}\n`
    const error = await loadError(loadYaml(text, { env: { KAFKA_PASSWORD: secret, KAFKA_USER: 'ops' } }))
    assert.equal(error.exitCode, ExitCode.config)
    assert.match(
      error.message,
      /^es\.config\.yaml:2: sasl\.mechanism must be one of plain, scram-sha-256, scram-sha-512 \(got the value of \$\{KAFKA_PASSWORD\}\)$/,
    )
    assert.ok(
      !JSON.stringify({ message: error.message, suggestion: error.suggestion, where: error.where }).includes(secret),
    )
  })

  it('an interpolated value that is not valid is never echoed either', () => {
    const error = resolveError({ brokers: ref('BROKERS') }, { env: { BROKERS: secret } })
    assert.equal(error.message, `brokers: the value of ${ref('BROKERS')} is not valid here`)
  })

  it('a missing variable names it and the field', () => {
    const error = resolveError({ sasl: { mechanism: 'plain', username: 'u', password: ref('KAFKA_PASSWORD') } })
    assert.equal(error.exitCode, ExitCode.config)
    assert.equal(error.message, 'environment variable KAFKA_PASSWORD is not set (used at sasl.password)')
  })
})

describe('settings from flags and ES_* variables', () => {
  it('a bad --brokers is a usage error naming the flag; a bad ES_BROKERS names the variable', () => {
    const flag = resolveError({}, { brokers: 'localhost' })
    assert.ok(flag instanceof UsageError)
    assert.equal(flag.message, '--brokers: brokers: "localhost" is not valid here')
    const env = resolveError({}, { env: { ES_BROKERS: 'localhost' } })
    assert.ok(env instanceof UsageError)
    assert.equal(env.message, 'ES_BROKERS: brokers: the value of ES_BROKERS is not valid here')
  })

  it('--brokers wins over ES_BROKERS, which wins over the file', () => {
    const file = { brokers: 'file:1' }
    assert.deepEqual(resolveConfig(file, { env: {} }).kafka.brokers, ['file:1'])
    assert.deepEqual(resolveConfig(file, { env: { ES_BROKERS: 'env:2,env:3' } }).kafka.brokers, ['env:2', 'env:3'])
    assert.deepEqual(resolveConfig(file, { env: { ES_BROKERS: 'env:2' }, brokers: 'flag:4' }).kafka.brokers, ['flag:4'])
  })

  it('-X maps librdkafka properties onto the connection', () => {
    const config = resolveConfig(
      { sasl: { mechanism: 'plain', username: 'file', password: 'x' } },
      {
        env: {},
        cwd: '/work',
        clientSettings: [
          'security.protocol=SASL_SSL',
          'sasl.mechanisms=SCRAM-SHA-512',
          'sasl.username=ops',
          'ssl.ca.location=certs/ca.pem',
          'ssl.endpoint.identification.algorithm=none',
          'client.id=kcat-fingers',
          'socket.connection.setup.timeout.ms=2500',
        ],
      },
    )
    assert.deepEqual(config.kafka.sasl, { mechanism: 'scram-sha-512', username: 'ops', password: 'x' })
    assert.deepEqual(config.kafka.ssl, { ca: '/work/certs/ca.pem', checkHostname: false })
    assert.equal(config.kafka.clientId, 'kcat-fingers')
    assert.equal(config.kafka.connectionTimeoutMs, 2500)
  })

  it('an unknown -X key, and a bad -X value, are usage errors naming them', () => {
    const unknown = resolveError({}, { clientSettings: ['sasl.mechansim=PLAIN'] })
    assert.ok(unknown instanceof UsageError)
    assert.equal(unknown.message, '-X sasl.mechansim is not a client setting es knows')
    assert.match(unknown.suggestion ?? '', /^did you mean sasl\.mechanism\? accepted keys: bootstrap\.servers, /)
    const value = resolveError({}, { clientSettings: ['sasl.mechanism=GSSAPI', 'sasl.username=u', 'sasl.password=p'] })
    assert.ok(value instanceof UsageError)
    assert.match(value.message, /^-X sasl\.mechanism: sasl\.mechanism must be one of plain, /)
    const partial = resolveError({}, { clientSettings: ['sasl.username=u'] })
    assert.ok(partial instanceof UsageError, String(partial))
    assert.equal(partial.message, '-X sasl.username: sasl needs "mechanism"')
  })
})

describe('the schema covers every key SPEC names', () => {
  it('accepts a config using all of them', () => {
    const everything = {
      $schema: './es.config.schema.json',
      brokers: ['a:9092', 'b:9092'],
      clientId: 'es',
      connectionTimeout: '1.5s',
      requestTimeout: 30000,
      ssl: { ca: './ca.pem', cert: './c.pem', key: './k.pem', servername: 'kafka.internal', checkHostname: false },
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'ops', password: 'p' },
      schemaRegistry: { url: 'https://registry:8081', username: 'u', password: 'p', ca: './ca.pem' },
      warnings: false,
      defaultProfile: 'dev',
      profiles: {
        dev: { brokers: 'localhost:9092' },
        prod: {
          description: 'production',
          brokers: 'kafka.prod:9093',
          ssl: true,
          schemaRegistry: { url: 'https://registry.prod', token: 't' },
          readOnly: true,
          services: { bank: { streams: { events: 'prod.bank.events' } } },
        },
      },
      services: {
        bank: {
          streams: { commands: 'bank.commands', events: ['bank.events', 'bank.more'], snapshots: 'bank.snapshots' },
          codec: {
            key: 'string',
            value: {
              type: 'avro-confluent',
              readerSchema: './r.avsc',
              schemaId: 3,
              autoRegister: true,
              subjectNameStrategy: 'topic-record',
            },
          },
          envelope: {
            type: 'header:__TypeId__ | simple-name',
            typeNames: { A: 'com.x.A' },
            commandDefaults: { kind: 'command' },
          },
          partitioner: 'murmur2',
          rejections: ['CommandRejected'],
          commands: { Open: { key: '$.id', schema: { type: 'object' } } },
          projections: {
            a: {
              reducer: './r.js',
              readModel: { type: 'postgres', url: 'postgres://x/y', table: 'public.a', columns: { b: 'c' } },
            },
            b: {
              reducer: 'latest',
              source: 'bank.snapshots',
              readModel: { type: 'http', url: 'http://x/{id}', listUrl: 'http://x' },
            },
            c: { readModel: { type: 'topic', topic: 't' } },
          },
        },
        proto: {
          codec: {
            key: { type: 'protobuf', protos: ['a.proto'], messageType: 'acme.Key' },
            value: { type: 'protobuf-confluent', messageType: 'acme.V' },
          },
        },
        jsonc: { codec: { value: { type: 'json-confluent', schemaId: 1 } }, partitioner: 'consistent_random' },
        single: {
          codec: { value: { type: 'avro-single-object', schemas: 'a.avsc', schemaTopic: 's', readerSchema: 'r.avsc' } },
          partitioner: 'crc32',
        },
      },
    }
    const config = resolveConfig(everything, { env: {}, file: '/etc/es/es.config.yaml' })
    assert.deepEqual(config.profile, { name: 'dev', chosenBy: 'default', isDefault: true, readOnly: false })
    assert.equal(config.services.bank.partitioner, 'murmur2')
    assert.deepEqual(config.services.proto.codec.key, {
      type: 'protobuf',
      protos: ['/etc/es/a.proto'],
      messageType: 'acme.Key',
    })
    assert.equal(config.warnings, false)
    assert.deepEqual(config.kafka.ssl, {
      ca: '/etc/es/ca.pem',
      cert: '/etc/es/c.pem',
      key: '/etc/es/k.pem',
      servername: 'kafka.internal',
      checkHostname: false,
    })
  })

  it('a registry URL, or {url, username, password}, or {url, token}, but not username with token', () => {
    assert.deepEqual(resolveConfig({ schemaRegistry: 'http://r:8081' }, { env: {} }).schemaRegistry, {
      url: 'http://r:8081',
    })
    const both = resolveError({ schemaRegistry: { url: 'http://r', username: 'u', password: 'p', token: 't' } })
    assert.equal(both.exitCode, ExitCode.config)
    assert.equal(both.message, 'schemaRegistry: this value is not allowed here')
    assert.equal(both.suggestion, 'give username and password, or a token: not both')
    const half = resolveError({ schemaRegistry: { url: 'http://r', username: 'u' } })
    assert.equal(half.message, 'schemaRegistry needs "password"')
  })

  it('the schema is shipped with the package and its duration pattern is the duration grammar', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    assert.ok(pkg.files.includes('es.config.schema.json'))
    const schema = JSON.parse(readFileSync(join(root, 'es.config.schema.json'), 'utf8'))
    const pattern = new RegExp(schema.definitions.duration.anyOf[0].pattern)
    for (const text of ['500ms', '10s', '1.5h', '1h30m', '2d', '1w', '10', '10 sec', '1.h', 'ms', '1y', '1H30M']) {
      assert.equal(pattern.test(text), parseDuration(text) !== undefined, text)
    }
  })
})
