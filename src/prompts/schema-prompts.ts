/**
 * Interactive prompts built from a command's JSON Schema (the only place inquirer is used):
 * enums as selects, booleans as confirms, numbers and strings checked as typed, required fields
 * enforced, nested objects asked field by field; then a confirmation showing the encoded record.
 */
import { UsageError } from '../errors.js'
import { confirmSummary } from '../render/send.js'
import type { SentRecord } from '../send/send-command.js'
import { canPrompt, confirm } from './confirm.js'
import { askSafely, onStderr } from './terminal.js'

interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  enum?: unknown[]
  default?: unknown
  description?: string
  title?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
}

/** `--interactive` needs someone to answer: refused under `--json`, and without a terminal. */
export function requireTerminal(json: boolean): void {
  if (json) throw new UsageError('--interactive and --json exclude each other', { code: 'USAGE' })
  if (!canPrompt()) {
    throw new UsageError('--interactive needs a terminal', {
      code: 'NO_TERMINAL',
      suggestion: 'give the payload with --data or --data-file instead',
    })
  }
}

/** Shows the encoded record and asks whether to send it (Enter: yes; `--yes` sends without asking). */
export function confirmSend(record: SentRecord, yes: boolean | undefined): Promise<boolean> {
  return confirm({
    summary: confirmSummary(record),
    question: 'Send this command?',
    action: 'sending a command',
    byDefault: true,
    yes,
  })
}

/** Asks for every field of `schema`; returns the payload object. */
export async function promptPayload(schema: object | undefined): Promise<Record<string, unknown>> {
  const prompts = await import('@inquirer/prompts')
  return askSafely(() => askObject(prompts, (schema ?? {}) as JsonSchema, ''))
}

type Prompts = typeof import('@inquirer/prompts')

async function askObject(prompts: Prompts, schema: JsonSchema, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  const required = new Set(schema.required ?? [])
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name
    const value = await askField(prompts, field, path, required.has(name))
    if (value !== undefined) out[name] = value
  }
  return out
}

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type
}

async function askField(prompts: Prompts, schema: JsonSchema, path: string, required: boolean): Promise<unknown> {
  const label = `${path}${required ? '' : ' (optional)'}${schema.description ? ` — ${schema.description}` : ''}`
  if (schema.enum) {
    const choices = schema.enum.map((value) => ({ name: String(value), value }))
    if (!required) choices.unshift({ name: '(none)', value: undefined })
    return prompts.select({ message: label, choices, default: schema.default }, onStderr)
  }
  const type = typeOf(schema)
  if (type === 'object') return askObject(prompts, schema, path)
  if (type === 'boolean') {
    return prompts.confirm(
      { message: label, default: typeof schema.default === 'boolean' ? schema.default : false },
      onStderr,
    )
  }
  if (type === 'number' || type === 'integer') {
    const answer = await prompts.input(
      {
        message: label,
        default: schema.default === undefined ? undefined : String(schema.default),
        validate: (text) => {
          if (text.trim() === '') return required ? `${path} is required` : true
          const n = Number(text)
          if (Number.isNaN(n)) return `${path} must be a number`
          if (type === 'integer' && !Number.isInteger(n)) return `${path} must be an integer`
          if (schema.minimum !== undefined && n < schema.minimum) return `${path} must be >= ${schema.minimum}`
          if (schema.maximum !== undefined && n > schema.maximum) return `${path} must be <= ${schema.maximum}`
          if (schema.exclusiveMinimum !== undefined && n <= schema.exclusiveMinimum)
            return `${path} must be > ${schema.exclusiveMinimum}`
          if (schema.exclusiveMaximum !== undefined && n >= schema.exclusiveMaximum)
            return `${path} must be < ${schema.exclusiveMaximum}`
          return true
        },
      },
      onStderr,
    )
    return answer.trim() === '' ? undefined : Number(answer)
  }
  if (type === 'array') {
    const answer = await prompts.input(
      {
        message: `${label} (JSON array)`,
        validate: (text) => {
          if (text.trim() === '') return required ? `${path} is required` : true
          try {
            return Array.isArray(JSON.parse(text)) || `${path} must be a JSON array`
          } catch {
            return `${path} must be a JSON array`
          }
        },
      },
      onStderr,
    )
    return answer.trim() === '' ? undefined : JSON.parse(answer)
  }
  const answer = await prompts.input(
    {
      message: label,
      default: typeof schema.default === 'string' ? schema.default : undefined,
      validate: (text) => (required && text === '' ? `${path} is required` : true),
    },
    onStderr,
  )
  return answer === '' && !required ? undefined : answer
}
