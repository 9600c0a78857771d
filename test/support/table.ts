/** Reading es's tables in tests. */

/** Rows of a cli-table3 table (NO_COLOR), as objects keyed by the header's titles. */
export function tableRows(stdout: string): Array<Record<string, string>> {
  const lines = stdout.split('\n').filter((line) => line.startsWith('│'))
  const cells = (line: string) =>
    line
      .split('│')
      .slice(1, -1)
      .map((cell) => cell.trim())
  const [head, ...rows] = lines.map(cells)
  return rows.map((row) => Object.fromEntries(head.map((title, i) => [title, row[i]])))
}
