// Search over history: filters in the hash, newest first, cursor pages; the page refreshes itself.
import { useRef } from 'preact/hooks';
import { listJobs } from '../api/endpoints';
import { href, navigate } from '../router';
import { usePoll } from '../use-poll';
import { FILTER_KEYS, JobFilters, filtersOf, type Filters } from './job-filters';
import { JobsTable } from './jobs-table';

const PAGE_SIZE = 20;
const EVERY_MS = 3000;

export function JobsPage({ query }: { query: URLSearchParams }) {
  const filters = filtersOf(query);
  const cursor = query.get('cursor') ?? '';
  const { data: page, reload } = usePoll(() => listJobs({ ...filters, cursor, limit: String(PAGE_SIZE) }), EVERY_MS, query.toString());
  // Cursors of the pages before this one, for "Newer" (a linked page starts a fresh trail).
  const trail = useRef<string[]>([]);

  const go = (next: Filters, nextCursor = ''): void => {
    const params: Record<string, string> = Object.fromEntries(FILTER_KEYS.map((key) => [key, next[key]]));
    if (nextCursor) params['cursor'] = nextCursor;
    const target = href(['jobs'], params);
    // The same search again loads it again.
    if (target === window.location.hash) reload();
    else navigate(target);
  };

  return (
    <>
      <h1>Jobs</h1>
      <JobFilters
        filters={filters}
        onSearch={(next) => {
          trail.current = [];
          go(next);
        }}
      />
      <div aria-busy={!page}>
        {page && page.jobs.length > 0 && <JobsTable jobs={page.jobs} />}
        {page && page.jobs.length === 0 && (
          <p class="empty" data-testid="jobs-empty">
            No job matches {cursor ? 'on this page' : 'these filters'}.
          </p>
        )}
        {!page && <p class="muted">Searching…</p>}
      </div>
      <div class="pager">
        <button type="button" data-testid="jobs-newer" disabled={!cursor} onClick={() => go(filters, trail.current.pop() ?? '')}>
          ← Newer
        </button>
        <button
          type="button"
          data-testid="jobs-next"
          disabled={!page?.nextCursor}
          onClick={() => {
            trail.current.push(cursor);
            go(filters, page?.nextCursor ?? '');
          }}
        >
          Next →
        </button>
      </div>
    </>
  );
}
