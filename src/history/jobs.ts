import { FencedError, type JobError } from '../errors.js';
import type { JobEvent, JobStatus, NewEvent } from '../events/types.js';
import type { Database } from './database.js';
import { schemaIdent } from './database.js';

/** A raw row of the `jobs` table. */
export interface JobRow {
  id: string;
  task: string;
  queue: string;
  status: string;
  input: unknown;
  result: unknown;
  error: JobError | null;
  progress: unknown;
  priority: number;
  max_attempts: number;
  attempts: number;
  idempotency_key: string | null;
  cancel_requested_at: Date | string | null;
  last_seq: number;
  created_at: Date | string;
  run_at: Date | string | null;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  retry_of: string | null;
}

/** A job as the rest of Taskyard sees it. */
export interface Job {
  id: string;
  task: string;
  queue: string;
  status: JobStatus;
  input: unknown;
  progress: unknown;
  attempts: number;
  maxAttempts: number;
  priority: number;
  idempotencyKey: string | null;
  cancelRequested: boolean;
  lastSeq: number;
  createdAt: string;
  runAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The job this one retries (`POST /v1/jobs/{id}/retry`), if any. */
  retryOf: string | null;
  result?: unknown;
  error?: JobError;
}

export interface NewJob {
  id: string;
  task: string;
  queue: string;
  input: unknown;
  priority: number;
  maxAttempts: number;
  idempotencyKey?: string | undefined;
  runAt?: Date | undefined;
}

export interface ListJobsQuery {
  task?: string | undefined;
  status?: string | undefined;
  queue?: string | undefined;
  /** Text found in the input or the error (case-insensitive substring). */
  q?: string | undefined;
  /** Created at or after. */
  from?: Date | undefined;
  /** Created before. */
  to?: Date | undefined;
  limit: number;
  /** Id of the last job of the previous page. */
  cursor?: string | undefined;
}

interface EventRow {
  seq: number;
  type: string;
  data: unknown;
  created_at: Date | string;
}

/** `%`, `_` and `\\` match themselves in an ILIKE pattern. */
const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (char) => `\\${char}`);

const iso = (value: Date | string | null): string | null =>
  value === null ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();

export function toJob(row: JobRow): Job {
  const job: Job = {
    id: row.id,
    task: row.task,
    queue: row.queue,
    status: row.status as JobStatus,
    input: row.input,
    progress: row.progress ?? null,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    idempotencyKey: row.idempotency_key,
    cancelRequested: row.cancel_requested_at !== null,
    lastSeq: row.last_seq,
    createdAt: iso(row.created_at)!,
    runAt: iso(row.run_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    retryOf: row.retry_of ?? null,
  };
  if (row.result !== null && row.result !== undefined) job.result = row.result;
  if (row.error) job.error = row.error;
  return job;
}

/** The history store: jobs and their event logs, in one schema. */
export class JobStore {
  private readonly s: string;
  /** NOTIFY channel on which `append_events` announces new events. */
  readonly eventsChannel: string;

  constructor(
    readonly db: Database,
    readonly schema: string,
  ) {
    this.s = schemaIdent(schema);
    this.eventsChannel = `${schema}:events`;
  }

  /**
   * Inserts a job with its first event (`status: queued`), in one statement.
   * With an idempotency key already used, inserts nothing and returns the
   * existing job, saying whether it was asked with the same input.
   */
  async insert(job: NewJob): Promise<{ job: Job; created: boolean; sameInput: boolean }> {
    const { rows } = await this.db.query<{ job: JobRow; created: boolean; same_input: boolean }>(
      `SELECT * FROM ${this.s}.enqueue_job($1, $2, $3, $4, $5, $6, $7, $8)`,
      [job.id, job.task, job.queue, JSON.stringify(job.input), job.priority, job.maxAttempts, job.idempotencyKey ?? null, job.runAt ?? null],
    );
    const row = rows[0];
    if (!row) throw new Error('enqueue_job returned no row');
    return { job: toJob(row.job), created: row.created, sameInput: row.same_input };
  }

  /** `insert` for many jobs in one statement (all or none), results in order. */
  async insertMany(jobs: readonly NewJob[]): Promise<Array<{ job: Job; created: boolean; sameInput: boolean }>> {
    if (jobs.length === 0) return [];
    const column = <T>(pick: (job: NewJob) => T): T[] => jobs.map(pick);
    const { rows } = await this.db.query<{ job: JobRow; created: boolean; same_input: boolean }>(
      `SELECT e.job, e.created, e.same_input
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[])
            WITH ORDINALITY AS t(id, task, queue, input, priority, max_attempts, key, run_at, n)
       CROSS JOIN LATERAL ${this.s}.enqueue_job(t.id, t.task, t.queue, t.input::jsonb, t.priority, t.max_attempts, t.key, t.run_at::timestamptz) AS e
       ORDER BY t.n`,
      [
        column((job) => job.id),
        column((job) => job.task),
        column((job) => job.queue),
        column((job) => JSON.stringify(job.input)),
        column((job) => job.priority),
        column((job) => job.maxAttempts),
        column((job) => job.idempotencyKey ?? null),
        column((job) => job.runAt?.toISOString() ?? null),
      ],
    );
    if (rows.length !== jobs.length) throw new Error(`enqueue_job returned ${rows.length} rows for ${jobs.length} jobs`);
    return rows.map((row) => ({ job: toJob(row.job), created: row.created, sameInput: row.same_input }));
  }

  async get(id: string): Promise<Job | undefined> {
    const { rows } = await this.db.query<JobRow>(`SELECT * FROM ${this.s}.jobs WHERE id = $1`, [id]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /** Finished jobs per queue and status, from history (the engine keeps none). */
  async finishedCounts(): Promise<Array<{ queue: string; status: string; count: number }>> {
    const { rows } = await this.db.query<{ queue: string; status: string; count: string | number }>(
      `SELECT queue, status, count(*) AS count FROM ${this.s}.jobs WHERE status IN ('completed', 'failed', 'cancelled') GROUP BY queue, status`,
    );
    return rows.map((row) => ({ queue: row.queue, status: row.status, count: Number(row.count) }));
  }

  /** The job an idempotency key was used for, if any. */
  async byIdempotencyKey(key: string): Promise<Job | undefined> {
    const { rows } = await this.db.query<JobRow>(`SELECT * FROM ${this.s}.jobs WHERE idempotency_key = $1`, [key]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /** Newest first, keyset-paginated on the (time-ordered) id. */
  async list(query: ListJobsQuery): Promise<{ jobs: Job[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.task) add('task = ?', query.task);
    if (query.status) add('status = ?', query.status);
    if (query.queue) add('queue = ?', query.queue);
    // The same expression as the trigram index (000005), so the planner can use it.
    if (query.q) add(`${this.s}.job_search_text(input, error) ILIKE ?`, `%${escapeLike(query.q)}%`);
    if (query.from) add('created_at >= ?', query.from);
    if (query.to) add('created_at < ?', query.to);
    if (query.cursor) add('id < ?', query.cursor);
    params.push(query.limit + 1);
    const { rows } = await this.db.query<JobRow>(
      `SELECT * FROM ${this.s}.jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, query.limit).map(toJob);
    const nextCursor = rows.length > query.limit ? (page[page.length - 1]?.id ?? null) : null;
    return { jobs: page, nextCursor };
  }

  /** Records that job `id` retries job `retryOf`; returns the job as it is now. */
  async markRetryOf(id: string, retryOf: string): Promise<Job | undefined> {
    const { rows } = await this.db.query<JobRow>(`UPDATE ${this.s}.jobs SET retry_of = $2 WHERE id = $1 RETURNING *`, [id, retryOf]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /**
   * Marks a cancel request on an unfinished job. Returns the job as it was, or
   * `undefined` when there is no such job.
   */
  async requestCancel(id: string): Promise<Job | undefined> {
    const { rows } = await this.db.query<JobRow>(
      `UPDATE ${this.s}.jobs
          SET cancel_requested_at = COALESCE(cancel_requested_at, clock_timestamp())
        WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')
        RETURNING *`,
      [id],
    );
    if (rows[0]) return toJob(rows[0]);
    return this.get(id);
  }

  /**
   * Appends events with the next seqs; returns them as stored. With `fence`,
   * refuses (FencedError) when a newer run of the job has begun.
   */
  async append(jobId: string, events: readonly NewEvent[], fence?: number): Promise<JobEvent[]> {
    if (events.length === 0) return [];
    try {
      const { rows } =
        fence === undefined
          ? await this.db.query<EventRow>(`SELECT * FROM ${this.s}.append_events($1, $2)`, [jobId, JSON.stringify(events)])
          : await this.db.query<EventRow>(`SELECT * FROM ${this.s}.append_fenced_events($1, $2, $3)`, [jobId, JSON.stringify(events), fence]);
      return rows.map((row) => toEvent(jobId, row));
    } catch (error) {
      if ((error as { code?: string }).code === 'TY409') throw new FencedError(jobId, fence ?? 0);
      throw error;
    }
  }

  /** Starts a run of the job: the next fence, with `status: active` appended. Undefined when the job is unknown. */
  async beginAttempt(jobId: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ fence: number | null }>(`SELECT ${this.s}.begin_attempt($1) AS fence`, [jobId]);
    const fence = rows[0]?.fence;
    return fence === null || fence === undefined ? undefined : Number(fence);
  }

  /**
   * Stores events that already have their seqs (from the Redis event log), once
   * each, and advances each job's row over its gap-free events. Returns how many
   * were new.
   */
  async project(events: readonly JobEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const { rows } = await this.db.query<{ inserted: number }>(`SELECT ${this.s}.project_events($1) AS inserted`, [JSON.stringify(events)]);
    return Number(rows[0]?.inserted ?? 0);
  }

  /**
   * When the longest-waiting job of `queue` that could run now became ready
   * (enqueued, or its delay passed); undefined when none waits.
   */
  async oldestWaiting(queue: string): Promise<Date | undefined> {
    const { rows } = await this.db.query<{ ready_at: Date | string }>(
      `SELECT greatest(created_at, run_at) AS ready_at FROM ${this.s}.jobs
        WHERE status = 'queued' AND queue = $1 AND (run_at IS NULL OR run_at <= clock_timestamp())
        ORDER BY id LIMIT 1`,
      [queue],
    );
    const at = rows[0]?.ready_at;
    return at === undefined ? undefined : new Date(at);
  }

  /** Deletes a job that was never handed to the queue (its enqueue failed), freeing its idempotency key. */
  async delete(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.s}.jobs WHERE id = $1`, [id]);
  }

  /** Events with seq > `after`, in order. */
  async events(jobId: string, after: number, limit = 1000): Promise<JobEvent[]> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT seq, type, data, created_at FROM ${this.s}.job_events
        WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [jobId, after, limit],
    );
    return rows.map((row) => toEvent(jobId, row));
  }

  /** Announces on '<schema>:cancel' that a job should stop, to every worker process. */
  async announceCancel(id: string): Promise<void> {
    await this.db.query('SELECT pg_notify($1, $2)', [this.cancelChannel, id]);
  }

  get cancelChannel(): string {
    return `${this.schema}:cancel`;
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}

function toEvent(jobId: string, row: EventRow): JobEvent {
  return {
    jobId,
    seq: Number(row.seq),
    type: row.type as JobEvent['type'],
    data: row.data ?? null,
    at: iso(row.created_at)!,
  };
}
