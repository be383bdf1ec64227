// The search form of the Jobs page. Its values live in the hash (`#/jobs?status=failed&q=x`).
import { useEffect, useState } from 'preact/hooks';
import { JOB_STATUSES } from '../api/types';
import { useTasks } from '../use-tasks';

export const FILTER_KEYS = ['q', 'task', 'status', 'queue', 'from', 'to'] as const;
export type Filters = Record<(typeof FILTER_KEYS)[number], string>;

export function filtersOf(query: URLSearchParams): Filters {
  return Object.fromEntries(FILTER_KEYS.map((key) => [key, query.get(key) ?? ''])) as Filters;
}

/** ISO date-time (what the hash and the API hold) ↔ the local `YYYY-MM-DDTHH:mm` of datetime-local. */
function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string {
  const date = new Date(value);
  return value && !Number.isNaN(date.getTime()) ? date.toISOString() : '';
}

export function JobFilters({ filters, onSearch }: { filters: Filters; onSearch: (filters: Filters) => void }) {
  const tasks = useTasks();
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [JSON.stringify(filters)]);
  const queues = [...new Set((tasks ?? []).map((task) => task.queue))].sort();
  const set = (key: keyof Filters) => (event: Event) => {
    const value = (event.currentTarget as HTMLInputElement | HTMLSelectElement).value;
    setDraft((old) => ({ ...old, [key]: key === 'from' || key === 'to' ? fromLocalInput(value) : value }));
  };
  const options = (values: string[], current: string) => {
    const all = current && !values.includes(current) ? [current, ...values] : values;
    return [
      <option value="" key="">
        Any
      </option>,
      ...all.map((value) => (
        <option value={value} key={value}>
          {value}
        </option>
      )),
    ];
  };
  return (
    <form
      class="filters"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        onSearch(draft);
      }}
    >
      <div class="field grow">
        <label for="search-q">Text in input or error</label>
        <input id="search-q" type="search" data-testid="search-q" value={draft.q} onInput={set('q')} placeholder="e.g. timeout" />
      </div>
      <div class="field">
        <label for="filter-task">Task</label>
        <select id="filter-task" data-testid="filter-task" value={draft.task} onChange={set('task')}>
          {options((tasks ?? []).map((task) => task.name), draft.task)}
        </select>
      </div>
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" data-testid="filter-status" value={draft.status} onChange={set('status')}>
          {options([...JOB_STATUSES], draft.status)}
        </select>
      </div>
      <div class="field">
        <label for="filter-queue">Queue</label>
        <select id="filter-queue" data-testid="filter-queue" value={draft.queue} onChange={set('queue')}>
          {options(queues, draft.queue)}
        </select>
      </div>
      <div class="field">
        <label for="filter-from">Created from</label>
        <input id="filter-from" type="datetime-local" data-testid="filter-from" value={toLocalInput(draft.from)} onChange={set('from')} />
      </div>
      <div class="field">
        <label for="filter-to">Created to</label>
        <input id="filter-to" type="datetime-local" data-testid="filter-to" value={toLocalInput(draft.to)} onChange={set('to')} />
      </div>
      <div class="field actions">
        <button type="submit" data-testid="search-submit">
          Search
        </button>
      </div>
    </form>
  );
}
