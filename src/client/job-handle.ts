import type { JobError } from '../errors.js';
import type { JobEvent } from '../events/types.js';
import { decodeCancel, decodeJob, decodeJobError, isRecord } from './decode.js';
import { followEvents, type ReconnectOptions } from './follow-events.js';
import { JobFailedError } from './job-failed-error.js';
import type { Transport } from './transport.js';
import type { CallOptions, CancelResult, EnqueuedJobInfo, EventsOptions, JobInfo, JobLinks } from './types.js';

/** What every handle of one client shares. */
export interface JobContext {
  transport: Transport;
  reconnect: Required<ReconnectOptions>;
}

/** A job on the server, by id: read it, follow its events, wait for its result, cancel it. */
export class JobHandle<Result = unknown> {
  readonly id: string;
  readonly #context: JobContext;
  readonly #path: string;

  constructor(context: JobContext, id: string) {
    this.id = id;
    this.#context = context;
    this.#path = `/v1/jobs/${encodeURIComponent(id)}`;
  }

  /** The job as it is now. */
  async get(options: CallOptions = {}): Promise<JobInfo<Result>> {
    // The server stores what the task returned: trust it to be the task's result type.
    return (await this.#context.transport.json('GET', this.#path, decodeJob, { signal: options.signal })) as JobInfo<Result>;
  }

  /**
   * Asks the server to cancel the job: a waiting job is cancelled at once, a
   * running one has its signal aborted. Throws a TaskyardHttpError with code
   * `TASKYARD_ERR_JOB_FINISHED` (409) when the job has already finished.
   */
  cancel(options: CallOptions = {}): Promise<CancelResult> {
    return this.#context.transport.json('POST', `${this.#path}/cancel`, decodeCancel, { signal: options.signal });
  }

  /**
   * The job's events in seq order, each once, ending after the terminal status
   * event. A dropped connection is resumed from the last event yielded. Every
   * event but `progress` comes; a consumer that falls behind may get only the
   * latest of a run of progress events (its seq then jumps).
   */
  events(options: EventsOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
    return followEvents(this.#context.transport, this.id, options, this.#context.reconnect);
  }

  /**
   * Waits for the job to finish. Resolves with its result when it completes;
   * rejects with a JobFailedError when it fails or is cancelled.
   */
  async result(options: CallOptions = {}): Promise<Result> {
    const job = await this.get(options);
    if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') return this.#settle(job);

    let result: { value: unknown } | undefined;
    let error: JobError | undefined;
    for await (const event of this.events({ signal: options.signal })) {
      if (event.type === 'result') result = { value: event.data };
      else if (event.type === 'error') error = toJobError(event.data);
      else if (event.type === 'status') {
        const status = isRecord(event.data) ? event.data['status'] : undefined;
        // A new attempt starts: an earlier attempt's error is not the outcome.
        if (status === 'active') error = undefined;
        if (status === 'completed' && result) return result.value as Result;
        if (status === 'failed' || status === 'cancelled') {
          if (error) throw new JobFailedError(this.id, status, error);
        }
      }
    }
    // The stream lacked the result or error event: the stored job has it.
    return this.#settle(await this.get(options));
  }

  #settle(job: JobInfo<Result>): Result {
    switch (job.status) {
      case 'completed':
        return job.result as Result;
      case 'failed':
        throw new JobFailedError(this.id, 'failed', job.error ?? { code: 'TASKYARD_ERR_TASK_FAILED', message: 'The job failed' });
      case 'cancelled':
        throw new JobFailedError(this.id, 'cancelled', job.error ?? { code: 'TASKYARD_ERR_CANCELLED', message: 'The job was cancelled' });
      default:
        throw new Error(`Job ${this.id} is still ${job.status} after its event stream ended`);
    }
  }
}

/** A job just enqueued: its handle plus what the server answered. */
export class EnqueuedJob<Result = unknown> extends JobHandle<Result> implements EnqueuedJobInfo {
  readonly task: string;
  readonly queue: string;
  /** The status when enqueued (`queued`, or any for a job found by its idempotency key); `get()` tells the current one. */
  readonly status: EnqueuedJobInfo['status'];
  readonly createdAt: string;
  readonly links: JobLinks;

  constructor(context: JobContext, info: EnqueuedJobInfo) {
    super(context, info.id);
    this.task = info.task;
    this.queue = info.queue;
    this.status = info.status;
    this.createdAt = info.createdAt;
    this.links = info.links;
  }
}

function toJobError(data: unknown): JobError {
  try {
    return decodeJobError(data);
  } catch {
    return { code: 'TASKYARD_ERR_TASK_FAILED', message: typeof data === 'string' ? data : 'The job failed' };
  }
}
