import type { z } from 'zod';

/** What a task may report while it runs. All numbers are optional. */
export interface ProgressUpdate {
  current?: number;
  total?: number;
  /** 0..100. Computed from current/total when omitted. */
  percent?: number;
  message?: string;
}

export interface TaskContext {
  readonly jobId: string;
  /** 1 for the first run, 2 for the next (a retry, or a re-run after the worker running it stalled or died), ... */
  readonly attempt: number;
  /**
   * Grows with every run of this job (retries, and re-runs after a worker
   * stalled). Pass it along with side effects (e.g. store it with a row and
   * refuse writes carrying a smaller one) so a stalled run cannot overwrite a
   * newer run's work. Equal to `attempt`.
   */
  readonly fencingToken: number;
  /**
   * Aborted on cancel, when the soft time limit passes, on shutdown, or when the
   * worker lost the job to another one; `signal.reason.code` says which
   * (`TASKYARD_ERR_CANCELLED`, `…_SOFT_TIMEOUT`, `…_SHUTDOWN`, `…_LOCK_LOST`).
   */
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  /** Appends one JSON chunk of the result to the job's event log (never dropped). */
  partial(chunk: unknown): void;
  log(message: string): void;
  /**
   * Functions the worker process hosts for tasks (a recipe's database access,
   * cache or locks), by name. They run on the worker's main thread; arguments
   * and results are copied. An unknown name rejects with `TASKYARD_ERR_HOST_NOT_FOUND`.
   */
  host<T extends object>(name: string): Remote<T>;
  /**
   * Stores a file the job produced, to download at `GET /v1/jobs/{id}/artifacts/{name}`;
   * the same name again replaces it (a retry rewrites its artifacts). The name is
   * sanitised (last path segment, safe characters). Needs the history database in
   * the worker's process (`--database` for a worker on Redis). Up to 64 MiB each.
   */
  artifact(name: string, data: string | Uint8Array, options?: { contentType?: string }): Promise<ArtifactInfo>;
}

export interface ArtifactInfo {
  /** The name it is stored under (after sanitising). */
  name: string;
  size: number;
}

/** `T`'s methods as seen from a task: every call is asynchronous. */
export type Remote<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

export interface BackoffOptions {
  type: 'fixed' | 'exponential';
  /** @defaultValue 1000 */
  delayMs: number;
}

export interface RetryOptions {
  /** Total runs, the first included. @defaultValue 3 */
  attempts: number;
  /** @defaultValue `{ type: 'exponential', delayMs: 1000 }` */
  backoff?: BackoffOptions;
}

export interface TaskDefinition<Name extends string, Input extends z.ZodType, Result> {
  name: Name;
  /** @defaultValue 'default' */
  queue?: string;
  description?: string;
  input: Input;
  retry?: RetryOptions;
  /** Soft time limit: `ctx.signal` aborts when it passes. */
  timeoutMs?: number;
  /**
   * Hard time limit: the sandbox running the job is killed when it passes.
   * @defaultValue timeoutMs + the worker's cancel grace, when timeoutMs is set
   */
  hardTimeoutMs?: number;
  run(input: z.output<Input>, ctx: TaskContext): Promise<Result> | Result;
}

/** Where a task was loaded from, so a sandbox thread can load it again. */
export interface TaskSource {
  moduleUrl: string;
  exportName: string;
}

export const TASK_BRAND = Symbol.for('taskyard.task');

export interface Task<Name extends string = string, Input extends z.ZodType = z.ZodType, Result = unknown>
  extends TaskDefinition<Name, Input, Result> {
  readonly [TASK_BRAND]: true;
  readonly queue: string;
  readonly retry: Required<RetryOptions>;
  source?: TaskSource;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest task, for collections
export type AnyTask = Task<string, z.ZodType, any>;

export const DEFAULT_RETRY: Required<RetryOptions> = Object.freeze({
  attempts: 3,
  backoff: Object.freeze({ type: 'exponential', delayMs: 1000 }),
});

const TASK_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/i;
const QUEUE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/** Declares a typed task. The result type is inferred from `run`. */
export function defineTask<const Name extends string, Input extends z.ZodType, Result>(
  definition: TaskDefinition<Name, Input, Result>,
): Task<Name, Input, Awaited<Result>> {
  if (!TASK_NAME.test(definition.name)) {
    throw new TypeError(`Task name "${definition.name}" must be 1-100 letters, digits, ".", "_" or "-"`);
  }
  const queue = definition.queue ?? 'default';
  if (!QUEUE_NAME.test(queue)) {
    throw new TypeError(`Queue name "${queue}" of task "${definition.name}" must be 1-64 letters, digits, "_" or "-"`);
  }
  const attempts = definition.retry?.attempts ?? DEFAULT_RETRY.attempts;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new TypeError(`retry.attempts of task "${definition.name}" must be a positive integer`);
  }
  return {
    ...definition,
    queue,
    retry: { attempts, backoff: definition.retry?.backoff ?? DEFAULT_RETRY.backoff },
    [TASK_BRAND]: true,
  } as Task<Name, Input, Awaited<Result>>;
}

export function isTask(value: unknown): value is AnyTask {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TASK_BRAND] === true;
}

/** The input type a task accepts (before parsing). */
export type TaskInput<T> = T extends Task<string, infer I, unknown> ? z.input<I> : never;
/** The result type a task returns. */
export type TaskResult<T> = T extends Task<string, z.ZodType, infer R> ? R : never;
