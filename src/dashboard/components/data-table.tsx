// A table that scrolls inside its own box (never the page) with a header row of columns.
import type { ComponentChildren } from 'preact';

export interface Column {
  label: string;
  /** Right-aligned, tabular figures. */
  num?: boolean;
  /** Read by screen readers only (e.g. an actions column). */
  hidden?: boolean;
}

export function DataTable({ columns, className, children }: { columns: Column[]; className?: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class={className ? `data ${className}` : 'data'}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" class={column.num ? 'num' : undefined} key={column.label}>
                {column.hidden ? <span class="visually-hidden">{column.label}</span> : column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
