// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config text with ${VAR} references, as users write it
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Provenance } from '../../src/config/interpolate.js'
import type { ResolvedConfig } from '../../src/config/types.js'
import { configWarnings } from '../../src/config/warnings.js'

describe('warnings about risky configuration', () => {
  const connection = (kafka: Partial<ResolvedConfig['kafka']>): ResolvedConfig => ({
    kafka: { brokers: ['b:9092'], clientId: 'es', connectionTimeoutMs: 1, requestTimeoutMs: 1, ...kafka },
    services: {},
    profiles: [],
    warnings: true,
    provenance: new Provenance(),
  })
  const sasl = { mechanism: 'scram-sha-256' as const, username: 'u', password: 'p' }
  const tls = { ca: 'PEM' }

  it('a literal password: one line suggesting ${VAR}; none for ${VAR}', () => {
    const literal = configWarnings({
      file: 'es.config.yaml',
      computed: false,
      raw: { sasl: { mechanism: 'plain', username: 'u', password: 'literal' }, ssl: true },
      config: connection({ sasl: { ...sasl, mechanism: 'plain' }, ssl: true }),
      mode: 0o600,
    })
    assert.deepEqual(
      literal.map((w) => w.message),
      [
        'es.config.yaml: sasl.password is written in the file; read it from the environment instead (password: "${KAFKA_PASSWORD}")',
      ],
    )
    const fromEnv = configWarnings({
      file: 'es.config.yaml',
      computed: false,
      raw: { sasl: { mechanism: 'plain', username: 'u', password: '${KAFKA_PASSWORD}' }, ssl: true },
      config: connection({ sasl: { ...sasl, mechanism: 'plain' }, ssl: true }),
      mode: 0o644,
    })
    assert.deepEqual(fromEnv, [], 'no secret in the file: its mode does not matter')
  })

  it('a file with secrets that others can read; URL passwords and inline keys count as secrets', () => {
    const warnings = configWarnings({
      file: 'es.config.yaml',
      computed: false,
      raw: {
        ssl: { key: '-----BEGIN PRIVATE KEY-----\nMII…' },
        services: { bank: { projections: { a: { readModel: { url: 'postgres://ops:pw@db/bank' } } } } },
      },
      config: connection({ ssl: tls }),
      mode: 0o640,
    })
    assert.deepEqual(
      warnings.map((w) => w.message),
      [
        'es.config.yaml: the password in services.bank.projections.a.readModel.url is written in the file; read it from the environment instead ("postgres://ops:${PGPASSWORD}@…")',
        'es.config.yaml holds secrets (ssl.key, services.bank.projections.a.readModel.url) and others can read it (mode 640); chmod 600 es.config.yaml',
      ],
    )
  })

  it('a computed (.js) config holds only the secrets its text contains', () => {
    const input = {
      file: 'es.config.mjs',
      computed: true,
      raw: { sasl: { mechanism: 'scram-sha-256', username: 'u', password: 's3cret' } },
      config: connection({ sasl, ssl: tls }),
      mode: 0o644,
    }
    assert.deepEqual(configWarnings({ ...input, text: 'password: process.env.KAFKA_PASSWORD' }), [])
    assert.equal(configWarnings({ ...input, text: "password: 's3cret'" }).length, 2)
  })

  it('SASL without TLS, PLAIN and SCRAM alike', () => {
    for (const mechanism of ['plain', 'scram-sha-512'] as const) {
      const [warning, ...rest] = configWarnings({
        computed: false,
        raw: {},
        config: connection({ sasl: { ...sasl, mechanism } }),
      })
      assert.equal(rest.length, 0)
      assert.ok(warning.silenceable)
      assert.match(warning.message, new RegExp(`^SASL ${mechanism.toUpperCase()} without TLS.*set ssl`))
    }
    assert.deepEqual(configWarnings({ computed: false, raw: {}, config: connection({ sasl, ssl: true }) }), [])
  })

  it('rejectUnauthorized: false, the one warning that cannot be silenced', () => {
    const [warning] = configWarnings({
      computed: false,
      raw: {},
      config: connection({ ssl: { rejectUnauthorized: false }, sasl }),
    })
    assert.equal(warning.silenceable, false)
    assert.match(warning.message, /^ssl\.rejectUnauthorized is false: .*SASL credentials go to whoever answers/)
    assert.deepEqual(
      configWarnings({ computed: false, raw: {}, config: connection({ ssl: { checkHostname: false, ca: 'x' } }) }),
      [],
    )
  })
})
