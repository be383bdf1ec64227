// Search over history: filters in the hash, newest first, cursor pages.
import { useEffect, useRef, useState } from 'preact/hooks';
import { listJobs } from '../api/endpoints';
import type { JobPage } from '../api/types';
import { useReportError } from '../errors';
import { href, navigate } from '../router';
import { FILTER_KEYS, JobFilters, filtersOf, type Filters } from './job-filters';
import { JobsTable } from './jobs-table';

const PAGE_SIZE = 20;

export function JobsPage({ query }: { query: URLSearchParams }) {
  const report = useReportError();
  const filters = filtersOf(query);
  const cursor = query.get('cursor') ?? '';
  const key = query.toString();
  const [page, setPage] = useState<JobPage | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [searches, setSearches] = useState(0);
  // Cursors of the pages before this one, for "Newer" (a linked page starts a fresh trail).
  const trail = useRef<string[]>([]);

  useEffect(() => {
    let current = true;
    setLoading(true);
    listJobs({ ...filters, cursor, limit: String(PAGE_SIZE) })
      .then((result) => current && setPage(result))
      .catch((error: unknown) => current && report(error))
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
  }, [key, searches, report]);

  const go = (next: Filters, nextCursor = ''): void => {
    const params: Record<string, string> = Object.fromEntries(FILTER_KEYS.map((k) => [k, next[k]]));
    if (nextCursor) params['cursor'] = nextCursor;
    const target = href(['jobs'], params);
    // The same search again refreshes the results.
    if (target === window.location.hash) setSearches((n) => n + 1);
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
      <div aria-live="polite" aria-busy={loading}>
        {page && page.jobs.length > 0 && <JobsTable jobs={page.jobs} />}
        {page && page.jobs.length === 0 && (
          <p class="empty" data-testid="jobs-empty">
            No job matches {cursor ? 'on this page' : 'these filters'}.
          </p>
        )}
        {!page && loading && <p class="muted">Searching…</p>}
      </div>
      <div class="pager">
        <button
          type="button"
          data-testid="jobs-newer"
          disabled={!cursor}
          onClick={() => go(filters, trail.current.pop() ?? '')}
        >
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
