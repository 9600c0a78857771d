/**
 * Every config the documentation shows is a config es loads: each YAML block of the README (and
 * each commented alternative in it, uncommented in its place), each JSON config block, and every
 * config in examples/, through the real loader and the schema. The examples point editors at the
 * schema.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/load.js'
import { tempDir } from '../support/temp-dir.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')

/** The fenced blocks of `language` in the README, with the line each starts at. */
function blocks(language: string): Array<{ line: number; text: string }> {
  const found: Array<{ line: number; text: string }> = []
  const fence = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm')
  for (const match of readme.matchAll(fence)) {
    found.push({ line: readme.slice(0, match.index).split('\n').length, text: match[1] })
  }
  return found
}

/**
 * The block, and one variant per commented-out setting (`# key: value` at the start of a line),
 * uncommented in place of the sibling setting of the same key it is an alternative to.
 */
function variants(text: string): Array<{ name: string; text: string }> {
  const lines = text.split('\n')
  const out = [{ name: 'as written', text }]
  for (const [i, line] of lines.entries()) {
    const commented = /^(\s*)# ([A-Za-z$][\w-]*):(\s.*)?$/.exec(line)
    if (!commented) continue
    const [, indent, key] = commented
    const variant = [...lines]
    variant[i] = `${indent}${line.slice(indent.length + 2)}`
    // The sibling it replaces: the nearest line above at the same indent with the same key.
    for (let j = i - 1; j >= 0; j--) {
      const sibling = /^(\s*)([A-Za-z$][\w-]*):/.exec(lines[j])
      if (sibling && sibling[1].length < indent.length) break
      if (sibling && sibling[1] === indent && sibling[2] === key) {
        variant[j] = ''
        break
      }
    }
    out.push({ name: `with "${line.trim()}"`, text: variant.join('\n') })
  }
  return out
}

/** Values for every ${VAR} the text uses. */
function envFor(text: string): NodeJS.ProcessEnv {
  return Object.fromEntries([...text.matchAll(/\$\{([A-Za-z_]\w*)\}/g)].map(([, name]) => [name, `value-of-${name}`]))
}

async function load(text: string, file: string) {
  const dir = await tempDir('es-docs-')
  const path = join(dir, file)
  await writeFile(path, text)
  return loadConfig({ configPath: path, cwd: dir, env: envFor(text) })
}

describe('configs in the documentation', () => {
  it('every YAML block of the README loads, with each commented alternative too', async () => {
    const yaml = blocks('yaml')
    assert.ok(yaml.length >= 3, 'the README shows configs')
    for (const block of yaml) {
      for (const variant of variants(block.text)) {
        await assert.doesNotReject(load(variant.text, 'es.config.yaml'), `README.md:${block.line} ${variant.name}`)
      }
    }
  })

  it('every JSON config block of the README loads', async () => {
    const configs = blocks('json').filter((b) => b.text.includes('es.config.schema.json'))
    assert.ok(configs.length >= 1)
    for (const block of configs) {
      await assert.doesNotReject(load(block.text, 'es.config.json'), `README.md:${block.line}`)
    }
  })

  it('every config in examples/ loads and names the schema for editors', async () => {
    const configs = readdirSync(join(root, 'examples'))
      .map((name) => join(root, 'examples', name))
      .flatMap((dir) =>
        ['es.config.yaml', 'es.config.yml', 'es.config.json'].map((f) => join(dir, f)).filter((f) => existsSync(f)),
      )
    assert.ok(configs.length >= 6)
    for (const file of configs) {
      const text = readFileSync(file, 'utf8')
      await assert.doesNotReject(loadConfig({ configPath: file, cwd: root, env: envFor(text) }), file)
      const schema = file.endsWith('.json')
        ? (JSON.parse(text).$schema as string | undefined)
        : /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1]
      assert.ok(schema, `${file} names es.config.schema.json`)
      assert.equal(resolve(dirname(file), schema), join(root, 'es.config.schema.json'), file)
    }
  })
})
