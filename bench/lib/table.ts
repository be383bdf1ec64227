/** A result table: printed on the terminal and kept, as is, in the JSON file. */
export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
  /** Lines printed under the table: how to read it. */
  notes?: string[];
}

const cell = (value: string | number | null): string => {
  if (value === null) return '—';
  if (typeof value === 'number') return Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '—';
  return value;
};

export function renderTable(table: Table): string {
  const cells = table.rows.map((row) => row.map(cell));
  const widths = table.columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]?.length ?? 0)));
  // Text columns read best left-aligned, figures right-aligned.
  const numeric = table.columns.map((_, i) => table.rows.every((row) => typeof row[i] === 'number' || row[i] === null));
  const line = (values: string[]): string =>
    values.map((value, i) => (numeric[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [table.title, line(table.columns), widths.map((width) => '─'.repeat(width)).join('  '), ...cells.map(line)];
  for (const note of table.notes ?? []) out.push(`  ${note}`);
  return `${out.join('\n')}\n`;
}
