import { v7 as uuidv7 } from 'uuid';
import type { Admission } from './admission.js';
import type { Engine } from './engine/engine.js';
import { TaskyardError } from './errors.js';
import type { EventLog } from './events/event-log.js';
import type { Job, JobStore } from './history/jobs.js';
import { storableProblem } from './history/storable.js';
import type { TaskRegistry } from './tasks/registry.js';
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
}

/**
 * Enqueues a job: validates the input against the task, stores it in history,
 * hands it to the engine. The one path every job takes in (the HTTP API, a
 * recipe, a listener), so each gets the same checks and idempotency.
 */
export function jobSubmitter(deps: SubmitDeps): SubmitJob {
  return async (request) => {
    const task = deps.registry.get(request.task);
    if (!task) throw new TaskyardError('TASKYARD_ERR_TASK_NOT_FOUND', `No task named "${request.task}"`);
    const input = request.input ?? {};
    const problem = storableProblem(input);
    if (problem) throw new TaskyardError('TASKYARD_ERR_VALIDATION', `Invalid input: ${problem}`, [{ path: 'input', message: problem }]);
    parseOr400(task.input, input, 'input', 'input');
    const attempts = request.attempts ?? task.retry.attempts;
    const delayMs = request.delayMs ?? 0;
    // Before anything is stored: a refused job leaves no trace.
    await deps.admission?.admit(task.queue).catch((error: unknown) => {
      throw error instanceof TaskyardError ? error : new TaskyardError('TASKYARD_ERR_NOT_READY', 'The queue engine is unreachable; try again shortly');
    });
    const { job, created, sameInput } = await deps.store.insert({
      id: uuidv7(),
      task: task.name,
      queue: task.queue,
      input,
      priority: request.priority ?? 0,
      maxAttempts: attempts,
      idempotencyKey: request.idempotencyKey,
      runAt: delayMs > 0 ? new Date(Date.now() + delayMs) : undefined,
    });
    if (!created) {
      if (job.task !== task.name) {
        throw new TaskyardError('TASKYARD_ERR_IDEMPOTENCY_CONFLICT', `The idempotency key was used for a job of task "${job.task}"`);
      }
      if (!sameInput) throw new TaskyardError('TASKYARD_ERR_IDEMPOTENCY_CONFLICT', 'The idempotency key was used with a different input', { jobId: job.id });
      return { job, created: false };
    }
    try {
      await deps.engine.enqueue({
        queue: task.queue,
        jobId: job.id,
        task: task.name,
        input,
        priority: job.priority,
        delayMs,
        attempts,
        backoff: task.retry.backoff,
      });
    } catch {
      // The caller is told the job was not accepted: it must not linger in history
      // (nor hold its idempotency key). Should even that fail, it stays as failed.
      await deps.store.delete(job.id).catch(() =>
        deps.log
          .append(job.id, [
            { type: 'error', data: { code: 'TASKYARD_ERR_ENQUEUE_FAILED', message: 'The job could not be enqueued' } },
            { type: 'status', data: { status: 'failed' } },
          ])
          .catch(() => undefined),
      );
      throw new TaskyardError('TASKYARD_ERR_ENQUEUE_FAILED', 'The queue engine is unreachable; the job was not accepted. Try again shortly.');
    }
    return { job, created: true };
  };
}
