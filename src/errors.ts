/**
 * Every error Taskyard reports has a code registered here, with the HTTP status
 * it maps to. HTTP bodies are always `{ "error": { "code", "message", "details"? } }`.
 */
export const ERROR_CODES = {
  TASKYARD_ERR_VALIDATION: { status: 400, message: 'The request is not valid' },
  TASKYARD_ERR_INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  TASKYARD_ERR_BAD_REQUEST: { status: 400, message: 'Bad request' },
  TASKYARD_ERR_TASK_NOT_FOUND: { status: 404, message: 'No such task' },
  TASKYARD_ERR_JOB_NOT_FOUND: { status: 404, message: 'No such job' },
  TASKYARD_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  TASKYARD_ERR_NOT_FOUND: { status: 404, message: 'No such resource' },
  TASKYARD_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  TASKYARD_ERR_NOT_ACCEPTABLE: { status: 406, message: 'Not acceptable' },
  TASKYARD_ERR_JOB_FINISHED: { status: 409, message: 'The job has already finished' },
  TASKYARD_ERR_JOB_NOT_RETRYABLE: { status: 409, message: 'Only a failed or cancelled job can be retried' },
  TASKYARD_ERR_IDEMPOTENCY_CONFLICT: { status: 409, message: 'The idempotency key was used for another request' },
  TASKYARD_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  TASKYARD_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'Request headers are too large' },
  TASKYARD_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  TASKYARD_ERR_NOT_READY: { status: 503, message: 'The service is not ready' },
  TASKYARD_ERR_ENQUEUE_FAILED: { status: 503, message: 'The job could not be enqueued' },
  TASKYARD_ERR_QUEUE_FULL: { status: 429, message: 'The queue is full; retry later' },
  // Job outcomes (found in a job's `error.code`, never as an HTTP status).
  TASKYARD_ERR_TASK_FAILED: { status: 500, message: 'The task threw an error' },
  TASKYARD_ERR_PERMANENT: { status: 500, message: 'The task failed permanently' },
  TASKYARD_ERR_CANCELLED: { status: 500, message: 'The job was cancelled' },
  TASKYARD_ERR_SOFT_TIMEOUT: { status: 500, message: 'The job exceeded its soft time limit' },
  TASKYARD_ERR_HARD_TIMEOUT: { status: 500, message: 'The job exceeded its hard time limit and was killed' },
  TASKYARD_ERR_UNKNOWN_TASK: { status: 500, message: 'No worker knows this task' },
  TASKYARD_ERR_INVALID_INPUT: { status: 500, message: 'The job input does not match the task schema' },
  TASKYARD_ERR_LOCK_LOST: { status: 500, message: 'The worker lost the job (it stalled) and another run replaced it' },
  TASKYARD_ERR_CONFIG: { status: 500, message: 'Invalid configuration' },
  TASKYARD_ERR_HOST_NOT_FOUND: { status: 500, message: 'The worker hosts no such functions for tasks' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TaskyardError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'TaskyardError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].status;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Thrown by a task to fail the job at once, without further retries. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly permanent = true;
}

export function isPermanentError(error: unknown): boolean {
  return error instanceof PermanentError || (error instanceof Error && (error as { permanent?: unknown }).permanent === true);
}

/** The serialisable form of a job's failure, stored in history and sent as the `error` event. */
export interface JobError {
  code: ErrorCode | string;
  message: string;
  name?: string;
  stack?: string;
  attempt?: number;
}

/**
 * A write from a run of a job that has been replaced by a newer run (its worker
 * stalled, lost the job's lock, and the job was handed to another worker).
 */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  readonly code = 'TASKYARD_ERR_LOCK_LOST';

  constructor(
    readonly jobId: string,
    readonly fence: number,
  ) {
    super(`Job ${jobId}: run ${fence} was replaced by a newer run; its writes are refused`);
  }
}
