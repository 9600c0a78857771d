import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig, selectService } from '../../src/config/load.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const configPath = join(root, 'examples/bank/es.config.yaml')

describe('examples/bank/es.config.yaml', () => {
  it('is accepted by loadConfig and describes the bank service', async () => {
    const config = await loadConfig({ configPath, cwd: root, env: {} })
    const bank = selectService(config)
    assert.ok(bank)
    assert.equal(bank.name, 'bank')
    assert.deepEqual(bank.streams, {
      commands: ['bank.commands'],
      events: ['bank.events'],
      snapshots: ['bank.snapshots'],
    })
    assert.deepEqual(bank.codec, { key: { type: 'string' }, value: { type: 'json' } })
    // The locators this file sets (the loader may add defaults for others).
    const { type, id, causationId, aggregateId, version, timestamp, payload } = bank.envelope
    assert.deepEqual(
      { type, id, causationId, aggregateId, version, timestamp, payload },
      {
        type: '$.type',
        id: '$.id',
        causationId: '$.causationId',
        aggregateId: 'key',
        version: '$.version',
        timestamp: '$.timestamp',
        payload: '$.data',
      },
    )
    assert.deepEqual(bank.rejections, ['CommandRejected'])
    assert.deepEqual(Object.keys(bank.commands).sort(), [
      'CloseAccount',
      'DepositFunds',
      'OpenAccount',
      'WithdrawFunds',
    ])
    assert.deepEqual(bank.commands.OpenAccount.schema?.required, ['owner'])
    for (const type of ['DepositFunds', 'WithdrawFunds']) {
      const schema = bank.commands[type].schema as { required: string[]; properties: { amount: object } }
      assert.deepEqual(schema.required, ['amount'])
      assert.deepEqual(schema.properties.amount, { type: 'number', exclusiveMinimum: 0 })
    }
    const accounts = bank.projections.accounts
    assert.equal(accounts.reducer, join(root, 'examples/bank/reducer.js'))
    assert.ok(existsSync(accounts.reducer), 'the reducer module exists')
    assert.deepEqual(accounts.source, ['bank.events'])
    assert.deepEqual(accounts.readModel, {
      type: 'sqlite',
      file: join(root, 'examples/bank/bank-accounts.db'),
      table: 'accounts',
    })
  })

  it('takes brokers from ES_BROKERS over the file', async () => {
    const config = await loadConfig({ configPath, cwd: root, env: { ES_BROKERS: '127.0.0.1:29092' } })
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:29092'])
  })
})
