// How times, durations and ids read on the page.
import { ago, duration } from '../format-time';

export { ago, duration };

// Ids are UUIDv7: the first characters are a timestamp shared by neighbours, the last are random.
export const shortId = (id: string): string => (id.length > 10 ? `…${id.slice(-8)}` : id);

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** How long a job ran (or has been running), or '—' if it has not started. */
export function jobDuration(job: { startedAt: string | null; finishedAt: string | null }, now = Date.now()): string {
  if (!job.startedAt) return '—';
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  return duration(end - Date.parse(job.startedAt));
}

export const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;

export const json = (value: unknown): string => JSON.stringify(value, null, 2) ?? 'undefined';
