// What the HTTP API sends and accepts, as the client sees it.
import type { JobError } from '../errors.js';
import type { JobStatus } from '../events/types.js';

/** Progress a task last reported. */
export interface JobProgress {
  current?: number;
  total?: number;
  /** 0..100 */
  percent?: number;
  message?: string;
}

/** A job as `GET /v1/jobs/{id}` shows it. */
export interface JobInfo<Result = unknown> {
  id: string;
  task: string;
  queue: string;
  status: JobStatus;
  progress: JobProgress | null;
  /** Runs started so far. */
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Present once the job has completed. */
  result?: Result;
  /** Present once the job has failed or been cancelled. */
  error?: JobError;
}

/** Where a job's resources live, relative to the server's origin. */
export interface JobLinks {
  self: string;
  events: string;
  cancel: string;
}

/** The answer to an enqueue: the job as it was just stored. */
export interface EnqueuedJobInfo {
  id: string;
  task: string;
  queue: string;
  /** `queued` for a new job; any status for a job found by its idempotency key. */
  status: JobStatus;
  createdAt: string;
  links: JobLinks;
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the request; the call then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

export interface EnqueueOptions extends CallOptions {
  /** 0..100; higher runs first. @defaultValue 0 */
  priority?: number;
  /** Wait this long before the job may run. @defaultValue 0 */
  delayMs?: number;
  /** Total runs, the first included. @defaultValue the task's `retry.attempts` */
  attempts?: number;
  /**
   * Enqueueing twice with the same key makes one job: the second call answers
   * with the first job. @defaultValue none
   */
  idempotencyKey?: string;
}

export interface EventsOptions {
  /** Start after this seq (events are numbered from 1). @defaultValue 0, the whole log */
  after?: number;
  /** Ends the iteration, which then throws the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** The answer to a cancel request. */
export interface CancelResult {
  id: string;
  /** `cancelled` for a job that had not started; a running job stops soon after. */
  status: JobStatus;
}

export interface ListJobsOptions<Name extends string = string> extends CallOptions {
  task?: Name;
  queue?: string;
  status?: JobStatus;
  /** 1..100 @defaultValue 20 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** One page of jobs, newest first. */
export interface JobPage<Result = unknown> {
  jobs: JobInfo<Result>[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** A task the server can run. */
export interface TaskInfo {
  name: string;
  queue: string;
  description?: string;
  /** JSON Schema of the task's input. */
  inputSchema: unknown;
}

/** A queue as `GET /v1/queues` shows it. */
export interface QueueInfo {
  name: string;
  paused: boolean;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** `GET /v1/stats/throughput`: jobs that ended per bucket of time, oldest bucket first. */
export interface ThroughputInfo {
  bucketSeconds: number;
  from: string;
  to: string;
  buckets: { at: string; completed: number; failed: number; cancelled: number }[];
}
