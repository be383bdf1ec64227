import Table from 'cli-table3';

/**
 * A plain table (no colours, so it reads the same in a pipe or a log), or the
 * sentence `empty` when there are no rows.
 */
export function renderTable(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>, empty: string): string {
  if (rows.length === 0) return `${empty}\n`;
  const table = new Table({ head: [...head], style: { head: [], border: [] } });
  for (const row of rows) table.push([...row]);
  return `${table.toString()}\n`;
}
