import { isTerminalStatus } from '../events/types.js';
import { applyEvents } from '../history/job-projection.js';
import type { Job } from '../history/jobs.js';
import type { ApiDeps } from './deps.js';

/**
 * A job as a client should see it: its history row, plus any events the log
 * holds beyond it (with Redis, history is written a moment after the log), so
 * a client that saw `completed` on its stream never reads `active` here.
 */
export async function findJob(deps: Pick<ApiDeps, 'store' | 'log'>, id: string): Promise<Job | undefined> {
  return withLoggedEvents(deps, await deps.store.get(id));
}

/** The job with the events its log holds beyond its history row. */
export async function withLoggedEvents(deps: Pick<ApiDeps, 'log'>, job: Job | undefined): Promise<Job | undefined> {
  if (!job || !deps.log.aheadOfHistory || isTerminalStatus(job.status)) return job;
  // The log unreachable (Redis down): history alone is still an answer, a moment old.
  const events = await deps.log.read(job.id, job.lastSeq).catch(() => []);
  return applyEvents(job, events);
}
