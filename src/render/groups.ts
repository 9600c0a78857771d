/** `es groups` for people: one row per group. */
import type { ChalkInstance } from 'chalk'
import type { GroupsResult } from '../admin/groups.js'
import { renderGrid } from './table.js'

const count = (n: number) => n.toLocaleString('en-US')

export function renderGroups(paint: ChalkInstance, result: GroupsResult): string {
  return renderGrid(
    paint,
    ['group', 'state', 'members', 'topics', 'lag'],
    result.groups.map((g) => [
      g.group,
      g.state === 'Stable' ? paint.green(g.state) : g.state === 'Empty' ? paint.dim(g.state) : paint.yellow(g.state),
      String(g.members),
      g.topics.join(', '),
      g.lag === null ? '—' : count(g.lag),
    ]),
  )
}

export function groupsSummary(result: GroupsResult): string {
  const n = result.groups.length
  return `${n} group${n === 1 ? '' : 's'}${n ? '; es checkpoints <group> shows one in detail' : ''}`
}
