import { v7 as uuidv7 } from 'uuid';
import type { Admission } from './admission.js';
import type { Engine, EnqueueSpec } from './engine/engine.js';
import { TaskyardError } from './errors.js';
import type { EventLog } from './events/event-log.js';
import type { Job, JobStore, NewJob } from './history/jobs.js';
import { storableProblem } from './history/storable.js';
import type { Metrics } from './observability/metrics.js';
import type { TaskRegistry } from './tasks/registry.js';
import { carrierOf, inSpan } from './observability/tracing.js';
import { parseOr400 } from './validate.js';

export interface SubmitRequest {
  task: string;
  input?: unknown;
  /** 0..100, higher runs first. @defaultValue 0 */
  priority?: number | undefined;
  delayMs?: number | undefined;
  /** @defaultValue the task's retry.attempts */
  attempts?: number | undefined;
  /** Same key and same input → the same job again (`created: false`); another input or task → 409. */
  idempotencyKey?: string | undefined;
}

export interface Submitted {
  job: Job;
  /** False when the idempotency key named an existing job with the same input. */
  created: boolean;
}

export type SubmitJob = (request: SubmitRequest) => Promise<Submitted>;

export interface SubmitDeps {
  engine: Engine;
  store: JobStore;
  log: EventLog;
  registry: TaskRegistry;
  /** Admission control, checked before anything is stored. */
  admission?: Admission;
  /** Counts accepted jobs. */
  metrics?: Pick<Metrics, 'jobsEnqueued'>;
}

export type SubmitMany = (requests: readonly SubmitRequest[]) => Promise<Submitted[]>;

/** The most jobs one `submitMany` takes. */
export const MAX_BULK = 1000;

interface Prepared {
  request: SubmitRequest;
  job: NewJob;
  spec: Omit<EnqueueSpec, 'jobId'>;
}

/**
 * Enqueues a job: validates the input against the task, stores it in history,
 * hands it to the engine. The one path every job takes in (the HTTP API, a
 * recipe, a listener), so each gets the same checks and idempotency.
 */
export function jobSubmitter(deps: SubmitDeps): SubmitJob {
  const submitMany = bulkSubmitter(deps);
  return async (request) => (await submitMany([request]))[0]!;
}

/**
 * Many jobs at once, all or none: every input is checked before anything is
 * stored, history takes them in one statement and the engine in one round trip
 * per queue. A refusal (bad input, queue full, idempotency conflict, engine
 * away) leaves none of them behind.
 */
export function bulkSubmitter(deps: SubmitDeps): SubmitMany {
  // One span for the enqueue; the jobs carry its context, so their runs are its children.
  return (requests) =>
    inSpan(requests.length === 1 ? `enqueue ${requests[0]!.task}` : `enqueue ${requests.length} jobs`, { 'taskyard.jobs': requests.length }, async (span) => {
      const submitted = await submitAll(deps, requests);
      if (submitted.length === 1) span.setAttributes({ 'taskyard.job.id': submitted[0]!.job.id, 'taskyard.task': submitted[0]!.job.task, 'taskyard.queue': submitted[0]!.job.queue });
      return submitted;
    });
}

async function submitAll(deps: SubmitDeps, requests: readonly SubmitRequest[]): Promise<Submitted[]> {
  if (requests.length > MAX_BULK) throw new TaskyardError('TASKYARD_ERR_VALIDATION', `At most ${MAX_BULK} jobs at once (${requests.length} given)`);
  const prepared = requests.map((request) => prepare(deps, request));
  // Before anything is stored: a refused job leaves no trace.
  for (const { job } of prepared) {
    await deps.admission?.admit(job.queue).catch((error: unknown) => {
      throw error instanceof TaskyardError ? error : new TaskyardError('TASKYARD_ERR_NOT_READY', 'The queue engine is unreachable; try again shortly');
    });
  }
  const stored = prepared.length === 1 ? [await deps.store.insert(prepared[0]!.job)] : await deps.store.insertMany(prepared.map((p) => p.job));
  const created = stored.filter((result) => result.created).map((result) => result.job);
  const conflict = stored.map((result, i) => conflictOf(result, prepared[i]!.request.task)).find((error) => error !== undefined);
  if (conflict) {
    await forget(deps, created);
    throw conflict;
  }
  const trace = carrierOf();
  const specs = stored.flatMap((result, i) => (result.created ? [{ ...prepared[i]!.spec, jobId: result.job.id, priority: result.job.priority, trace }] : []));
  try {
    if (specs.length === 1) await deps.engine.enqueue(specs[0]!);
    else if (specs.length > 1) await deps.engine.enqueueMany(specs);
  } catch {
    // The caller is told the jobs were not accepted: they must not linger in history
    // (nor hold their idempotency keys).
    await forget(deps, created);
    throw new TaskyardError('TASKYARD_ERR_ENQUEUE_FAILED', 'The queue engine is unreachable; the job was not accepted. Try again shortly.');
  }
  for (const job of created) deps.metrics?.jobsEnqueued(job.task, job.queue);
  return stored.map((result) => ({ job: result.job, created: result.created }));
}

function prepare(deps: SubmitDeps, request: SubmitRequest): Prepared {
  const task = deps.registry.get(request.task);
  if (!task) throw new TaskyardError('TASKYARD_ERR_TASK_NOT_FOUND', `No task named "${request.task}"`);
  const input = request.input ?? {};
  const problem = storableProblem(input);
  if (problem) throw new TaskyardError('TASKYARD_ERR_VALIDATION', `Invalid input: ${problem}`, [{ path: 'input', message: problem }]);
  parseOr400(task.input, input, 'input', 'input');
  const attempts = request.attempts ?? task.retry.attempts;
  const delayMs = request.delayMs ?? 0;
  const priority = request.priority ?? 0;
  return {
    request,
    job: {
      id: uuidv7(),
      task: task.name,
      queue: task.queue,
      input,
      priority,
      maxAttempts: attempts,
      idempotencyKey: request.idempotencyKey,
      runAt: delayMs > 0 ? new Date(Date.now() + delayMs) : undefined,
    },
    spec: { queue: task.queue, task: task.name, input, priority, delayMs, attempts, backoff: task.retry.backoff },
  };
}

function conflictOf(result: { job: Job; created: boolean; sameInput: boolean }, task: string): TaskyardError | undefined {
  if (result.created) return undefined;
  if (result.job.task !== task) {
    return new TaskyardError('TASKYARD_ERR_IDEMPOTENCY_CONFLICT', `The idempotency key was used for a job of task "${result.job.task}"`);
  }
  if (!result.sameInput) return new TaskyardError('TASKYARD_ERR_IDEMPOTENCY_CONFLICT', 'The idempotency key was used with a different input', { jobId: result.job.id });
  return undefined;
}

/** Removes jobs that were stored but not accepted. Should even that fail, they stay as failed. */
async function forget(deps: SubmitDeps, jobs: readonly Job[]): Promise<void> {
  for (const job of jobs) {
    await deps.store.delete(job.id).catch(() =>
      deps.log
        .append(job.id, [
          { type: 'error', data: { code: 'TASKYARD_ERR_ENQUEUE_FAILED', message: 'The job could not be enqueued' } },
          { type: 'status', data: { status: 'failed' } },
        ])
        .catch(() => undefined),
    );
  }
}
