/**
 * Where es's own files are (es.config.schema.json, scripts/kafka/pom.xml, dist/…), found from this
 * module's location by walking up to the package.json named es-cli — the same answer whether this
 * module runs from dist/src or inlined in a bundled command (dist/commands/…, see scripts/bundle.mjs).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

export function packageRoot(): string {
  if (root !== undefined) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'es-cli') {
      root = dir
      return dir
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`es's package.json not found above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

/** A file of the package, by its path from the package root. */
export function packageFile(...parts: string[]): string {
  return join(packageRoot(), ...parts)
}
