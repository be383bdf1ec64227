// How times, durations and ids read on the page.

// Ids are UUIDv7: the first characters are a timestamp shared by neighbours, the last are random.
export const shortId = (id: string): string => (id.length > 10 ? `…${id.slice(-8)}` : id);

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** How long a job ran (or has been running), or '—' if it has not started. */
export function jobDuration(job: { startedAt: string | null; finishedAt: string | null }, now = Date.now()): string {
  if (!job.startedAt) return '—';
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  return duration(end - Date.parse(job.startedAt));
}

/** "3 s ago", "2 min ago". */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;

export const json = (value: unknown): string => JSON.stringify(value, null, 2) ?? 'undefined';
