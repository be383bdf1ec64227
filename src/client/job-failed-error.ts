import type { JobError } from '../errors.js';

/** `job.result()` rejects with this when the job ends `failed` or `cancelled`. */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  readonly jobId: string;
  /** How the job ended. */
  readonly status: 'failed' | 'cancelled';
  /** The job's error as stored: `code` is e.g. `TASKYARD_ERR_TASK_FAILED` or `TASKYARD_ERR_CANCELLED`. */
  readonly error: JobError;

  constructor(jobId: string, status: 'failed' | 'cancelled', error: JobError) {
    super(`Job ${jobId} ${status}: ${error.message}`);
    this.jobId = jobId;
    this.status = status;
    this.error = error;
  }

  /** Shorthand for `error.code`. */
  get code(): string {
    return this.error.code;
  }
}
