import { decodeEnqueued, decodeJobPage, decodeTasks } from './decode.js';
import { DEFAULT_RECONNECT, type ReconnectOptions } from './follow-events.js';
import { EnqueuedJob, JobHandle, type JobContext } from './job-handle.js';
import type { InputOf, ResultOf, TaskName } from './task-types.js';
import { Transport, type TransportOptions } from './transport.js';
import type { CallOptions, EnqueueOptions, JobInfo, JobPage, ListJobsOptions, TaskInfo } from './types.js';

export interface ClientOptions extends TransportOptions {
  /** How `job.events()` and `job.result()` reconnect. @defaultValue 100 ms doubling to 2 s; 45 s idle timeout */
  reconnect?: ReconnectOptions;
}

/**
 * A typed client of one Taskyard server. `T` describes the tasks (see
 * `createClient`); with no `T`, any task name is accepted and inputs and
 * results are `unknown`.
 */
export class TaskyardClient<T = unknown> {
  readonly #context: JobContext;

  constructor(options: ClientOptions) {
    this.#context = {
      transport: new Transport(options),
      reconnect: { ...DEFAULT_RECONNECT, ...options.reconnect },
    };
  }

  /** Enqueues a job of `task`; the server validates `input` against the task's schema. */
  async enqueue<Name extends TaskName<T>>(
    task: Name,
    input: InputOf<T, Name>,
    options: EnqueueOptions = {},
  ): Promise<EnqueuedJob<ResultOf<T, Name>>> {
    const body: Record<string, unknown> = { input };
    if (options.priority !== undefined) body['priority'] = options.priority;
    if (options.delayMs !== undefined) body['delayMs'] = options.delayMs;
    if (options.attempts !== undefined) body['attempts'] = options.attempts;
    const headers: Record<string, string> = {};
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    const info = await this.#context.transport.json('POST', `/v1/tasks/${encodeURIComponent(task)}/jobs`, decodeEnqueued, {
      body,
      headers,
      signal: options.signal,
    });
    return new EnqueuedJob(this.#context, info);
  }

  /** A handle for a job known by id; name its task to type its result: `client.job<'compute-pi'>(id)`. */
  job<Name extends TaskName<T> = TaskName<T>>(id: string): JobHandle<ResultOf<T, Name>> {
    return new JobHandle(this.#context, id);
  }

  /** The job as it is now. */
  getJob<Name extends TaskName<T> = TaskName<T>>(id: string, options: CallOptions = {}): Promise<JobInfo<ResultOf<T, Name>>> {
    return this.job<Name>(id).get(options);
  }

  /** One page of jobs, newest first. */
  async listJobs<Name extends TaskName<T> = TaskName<T>>(options: ListJobsOptions<Name> = {}): Promise<JobPage<ResultOf<T, Name>>> {
    const { task, queue, status, limit, cursor, signal } = options;
    const page = await this.#context.transport.json('GET', '/v1/jobs', decodeJobPage, {
      query: { task, queue, status, limit, cursor },
      signal,
    });
    // The server stores what the task returned: trust it to be the task's result type.
    return page as JobPage<ResultOf<T, Name>>;
  }

  /** The tasks the server can run, with the JSON Schema of their input. */
  listTasks(options: CallOptions = {}): Promise<TaskInfo[]> {
    return this.#context.transport.json('GET', '/v1/tasks', decodeTasks, { signal: options.signal });
  }
}

/**
 * Creates a client. Type it with the app's tasks to get checked task names,
 * inputs and results:
 *
 * ```ts
 * import type * as tasks from './tasks.js';
 * const client = createClient<typeof tasks>({ url: 'http://127.0.0.1:3000' });
 * const job = await client.enqueue('compute-pi', { digits: 10 });
 * const digits: string = await job.result();
 * ```
 *
 * `T` may be a module namespace or record of tasks (other exports are ignored),
 * an array or tuple of tasks, or one task.
 */
export function createClient<T = unknown>(options: ClientOptions): TaskyardClient<T> {
  return new TaskyardClient<T>(options);
}
