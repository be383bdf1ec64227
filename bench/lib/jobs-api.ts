// Reads what happened to the benchmark's jobs through Taskyard's own HTTP API:
// with PGlite the database lives inside the server process, so there is no other way in.
import { setTimeout as sleep } from 'node:timers/promises';

export interface JobTimes {
  id: string;
  status: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

interface JobsPage {
  jobs: Array<{ id: string; status: string; createdAt: string; startedAt: string | null; finishedAt: string | null }>;
  nextCursor: string | null;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** POSTs a job of `task`; resolves with its id once the API answered 202. */
export async function submitJob(base: string, task: string, input: unknown): Promise<string> {
  const res = await fetch(`${base}/v1/tasks/${task}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
  if (res.status !== 202) throw new Error(`enqueue of ${task} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** The newest job id of a task ('' if none): jobs created later have greater ids (UUIDv7). */
export async function newestJobId(base: string, task: string): Promise<string> {
  const page = await getJson<JobsPage>(`${base}/v1/jobs?task=${encodeURIComponent(task)}&limit=1`);
  return page.jobs[0]?.id ?? '';
}

/** Every job of `task` with an id greater than `afterId`, walking the list newest first. */
export async function jobsAfter(base: string, task: string, afterId: string, onPage?: (count: number) => void): Promise<JobTimes[]> {
  const out: JobTimes[] = [];
  let cursor: string | null = null;
  for (;;) {
    const query = new URLSearchParams({ task, limit: '100' });
    if (cursor) query.set('cursor', cursor);
    const page = await getJson<JobsPage>(`${base}/v1/jobs?${query}`);
    for (const job of page.jobs) {
      if (job.id <= afterId) return out;
      out.push({ id: job.id, status: job.status, createdAt: Date.parse(job.createdAt), startedAt: ms(job.startedAt), finishedAt: ms(job.finishedAt) });
    }
    onPage?.(out.length);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

const UNFINISHED = ['queued', 'active', 'retrying'] as const;

/** How many jobs of `task` are not finished yet; counts stop at 100 per status (`capped`). */
export async function unfinished(base: string, task: string): Promise<{ count: number; capped: boolean }> {
  let count = 0;
  let capped = false;
  for (const status of UNFINISHED) {
    const page = await getJson<JobsPage>(`${base}/v1/jobs?task=${encodeURIComponent(task)}&status=${status}&limit=100`);
    count += page.jobs.length;
    if (page.nextCursor) capped = true;
  }
  return { count, capped };
}

/**
 * Waits until no job of `task` is queued, active or retrying. Every job accepted
 * (202) is in history before its response, so "none unfinished" means all done.
 */
export async function waitUntilDrained(
  base: string,
  task: string,
  options: { timeoutMs: number; pollMs?: number; onPoll?: (left: { count: number; capped: boolean }) => void },
): Promise<boolean> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const left = await unfinished(base, task);
    options.onPoll?.(left);
    if (left.count === 0) return true;
    if (performance.now() > deadline) return false;
    await sleep(options.pollMs ?? 200);
  }
}
