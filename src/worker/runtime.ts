import type { Engine, EngineJob, EngineWorker } from '../engine/engine.js';
import { NoRetryError, RequeueError } from '../engine/engine.js';
import { FencedError, type JobError } from '../errors.js';
import type { CancelBus } from '../events/cancel-bus.js';
import type { EventLog } from '../events/event-log.js';
import { JobEventWriter } from '../events/job-event-writer.js';
import type { NewEvent } from '../events/types.js';
import type { ActiveJob } from '../events/worker-directory.js';
import type { AnyTask } from '../tasks/define-task.js';
import type { TaskRegistry } from '../tasks/registry.js';
import { Executor, type Execution } from './executor.js';
import type { Hosts } from './hosts.js';
import type { AbortReasonData, SerializedError } from './sandbox-protocol.js';
import type { Logger } from '../logger.js';
import type { JobOutcome, Metrics } from '../observability/metrics.js';
import { contextOf, failSpan, SpanKind, SpanStatusCode, traceFields, tracer, type Span } from '../observability/tracing.js';

export interface WorkerRuntimeOptions {
  engine: Engine;
  log: EventLog;
  cancelBus: CancelBus;
  registry: TaskRegistry;
  logger: Logger;
  /** Queues to consume. @defaultValue every queue of the registered tasks */
  queues?: readonly string[];
  /** Jobs run at once per queue. @defaultValue 4 */
  concurrency?: number;
  /** After a cancel or soft time limit, how long the task may take to stop before it is killed. @defaultValue 5000 */
  cancelGraceMs?: number;
  /** On shutdown, how long running jobs may take to finish before they are put back in the queue. @defaultValue 10000 */
  shutdownGraceMs?: number;
  /** @defaultValue 100 */
  progressIntervalMs?: number;
  /** How long a job's lock lasts without renewal (a stalled worker loses its jobs after this). @defaultValue 30000 */
  lockDurationMs?: number;
  /** Functions tasks reach through `ctx.host(name)`. */
  hosts?: Hosts;
  /** A sandbox thread is replaced after this many jobs. @defaultValue 0 (never) */
  maxJobsPerChild?: number;
  /** Nice value of the sandbox threads on Linux (0 leaves them at the process's priority). @defaultValue 10 */
  jobNice?: number;
  /** Counts runs, their endings and times. */
  metrics?: Pick<Metrics, 'jobStarted' | 'jobEnded'>;
}

interface Running {
  job: EngineJob;
  startedAt: string;
  execution: Execution;
  abortReason?: AbortReasonData;
  timers: NodeJS.Timeout[];
}

/**
 * Runs jobs: takes them from the engine, runs their task code in the executor,
 * writes their events, and turns cancels, time limits and shutdown into the
 * right ending (cancelled, failed, retrying, or back in the queue).
 */
export class WorkerRuntime {
  private readonly running = new Map<string, Running>();
  /**
   * Cancels heard in the last minute, by job id. A cancel can reach this worker
   * just before it registers a job it has taken; the job checks here when it
   * starts, so that window costs no database round trip.
   */
  private readonly recentCancels = new Map<string, number>();
  private readonly workers: EngineWorker[] = [];
  private readonly executor: Executor;
  private unsubscribeCancel: (() => Promise<void>) | undefined;
  private stopping: Promise<void> | undefined;
  readonly queues: readonly string[];
  readonly concurrency: number;
  private readonly cancelGraceMs: number;

  constructor(private readonly options: WorkerRuntimeOptions) {
    this.queues = options.queues?.length ? [...options.queues] : options.registry.queues();
    this.concurrency = options.concurrency ?? 4;
    this.cancelGraceMs = options.cancelGraceMs ?? 5000;
    this.executor = new Executor(Math.max(1, this.concurrency * this.queues.length), options.hosts, options.maxJobsPerChild ?? 0, options.jobNice ?? 10);
  }

  get activeJobs(): number {
    return this.running.size;
  }

  /** The jobs this worker holds right now (for its heartbeat). */
  snapshot(): ActiveJob[] {
    return [...this.running.values()].map(({ job, startedAt }) => ({ jobId: job.id, task: job.task, queue: job.queue, startedAt }));
  }

  async start(): Promise<void> {
    this.unsubscribeCancel = await this.options.cancelBus.subscribe((jobId) => {
      this.rememberCancel(jobId);
      this.cancelRunning(jobId);
    });
    for (const queue of this.queues) {
      this.workers.push(
        this.options.engine.createWorker(queue, (job) => this.process(job), {
          concurrency: this.concurrency,
          ...(this.options.lockDurationMs !== undefined && { lockDurationMs: this.options.lockDurationMs }),
          onLockLost: (jobId) => this.lockLost(jobId),
        }),
      );
    }
  }

  /**
   * Resolves when this worker can take work: every queue's fetch loop runs and
   * the queue engine answers (a connection that died silently does not). The
   * caller bounds the wait.
   */
  async health(): Promise<void> {
    if (this.stopping) throw new Error('The worker is shutting down');
    const stalled = this.queues.filter((_, i) => !this.workers[i]?.isRunning());
    if (stalled.length > 0) throw new Error(`Not taking jobs from ${stalled.join(', ')}`);
    await this.options.engine.ping();
  }

  /**
   * Stops taking jobs, lets running ones finish within the grace period, then
   * puts the rest back in their queue for another worker (or the next start).
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const grace = setTimeout(() => {
        for (const running of this.running.values()) {
          this.abortRun(running, { code: 'TASKYARD_ERR_SHUTDOWN', message: 'The worker is shutting down' });
          running.timers.push(
            setTimeout(() => running.execution.kill({ name: 'Error', message: 'Shutdown', code: 'TASKYARD_ERR_SHUTDOWN' }), 1000),
          );
        }
      }, this.options.shutdownGraceMs ?? 10_000);
      try {
        await Promise.all(this.workers.map((worker) => worker.close()));
      } finally {
        clearTimeout(grace);
        await this.unsubscribeCancel?.();
        await this.executor.close();
      }
    })();
    return this.stopping;
  }

  /** Cooperative first (the signal), then a kill after the grace period. */
  cancelRunning(jobId: string): void {
    const running = this.running.get(jobId);
    if (!running || running.abortReason?.code === 'TASKYARD_ERR_CANCELLED') return;
    this.abortRun(running, { code: 'TASKYARD_ERR_CANCELLED', message: 'The job was cancelled' });
    running.timers.push(
      setTimeout(
        () =>
          running.execution.kill({
            name: 'CancelledError',
            message: 'The job was cancelled and did not stop within the grace period, so it was killed',
            code: 'TASKYARD_ERR_CANCELLED',
          }),
        this.cancelGraceMs,
      ),
    );
  }

  /**
   * This worker can no longer renew the job's lock (it stalled), or the log
   * refused its writes: another worker runs or will run the job. Stop the run;
   * whatever it still emits is refused by its fence.
   */
  lockLost(jobId: string): void {
    const running = this.running.get(jobId);
    if (!running || running.abortReason?.code === 'TASKYARD_ERR_LOCK_LOST') return;
    running.abortReason = { code: 'TASKYARD_ERR_LOCK_LOST', message: 'This worker lost the job (it stalled); another run replaces this one' };
    running.execution.abort(running.abortReason);
    running.timers.push(
      setTimeout(
        () => running.execution.kill({ name: 'LockLostError', message: running.abortReason!.message, code: 'TASKYARD_ERR_LOCK_LOST' }),
        this.cancelGraceMs,
      ),
    );
  }

  private rememberCancel(jobId: string): void {
    const now = Date.now();
    this.recentCancels.set(jobId, now);
    if (this.recentCancels.size > 1000) {
      for (const [id, at] of this.recentCancels) if (now - at > 60_000) this.recentCancels.delete(id);
    }
  }

  private abortRun(running: Running, reason: AbortReasonData): void {
    running.abortReason ??= reason;
    running.execution.abort(reason);
  }

  private async process(queued: EngineJob): Promise<unknown> {
    const task = this.options.registry.get(queued.task);
    if (!task) {
      const writer = new JobEventWriter(this.options.log, queued.id, { onError: (error) => this.logWriteError(error, queued.id) });
      await writer.write(...failure(queued.attempt, { code: 'TASKYARD_ERR_UNKNOWN_TASK', message: `No task named "${queued.task}" is registered on this worker` }, 'failed'));
      throw new NoRetryError(`Unknown task ${queued.task}`);
    }
    // Every run takes the job's next fence; it is also the attempt number users see.
    const fence = await this.options.log.beginAttempt(queued.id);
    // The job already ended (a worker died after writing its ending, before telling
    // the queue), or is unknown: it must neither run nor end a second time.
    if (fence === undefined) return null;
    const job: EngineJob = { ...queued, attempt: fence };
    // Retries are BullMQ's to count: a re-run after a stall is an extra run, not a retry.
    const retry = { left: queued.attempt < queued.maxAttempts, delayMs: backoffDelay(task, queued.attempt) };
    const writer = new JobEventWriter(this.options.log, job.id, {
      progressIntervalMs: this.options.progressIntervalMs ?? 100,
      fence,
      onFenced: () => this.lockLost(job.id),
      onError: (error) => this.logWriteError(error, job.id),
    });

    const execution = this.executor.start(task, { jobId: job.id, attempt: job.attempt, input: job.input }, (type, data) =>
      writer.emit(type, data),
    );
    const running: Running = { job, startedAt: new Date().toISOString(), execution, timers: [] };
    this.running.set(job.id, running);
    const metrics = this.options.metrics;
    // Time in the queue is the first run's: a retry's wait is its backoff, not the queue's.
    const readyAt = queued.attempt === 1 ? queued.readyAt : undefined;
    metrics?.jobStarted(job.task, job.queue, readyAt);
    const span = startRunSpans(job, readyAt, Date.parse(running.startedAt));
    const logger = this.options.logger.child({ jobId: job.id, task: job.task, queue: job.queue, attempt: job.attempt, ...traceFields(span) });
    logger.debug('job started');
    let spanOpen = true;
    const ended = (outcome: JobOutcome, error?: JobError): void => {
      spanOpen = false;
      const runMs = Date.now() - Date.parse(running.startedAt);
      metrics?.jobEnded(job.task, job.queue, outcome, runMs);
      span.setAttribute('taskyard.outcome', outcome);
      if (error && outcome !== 'cancelled') failSpan(span, Object.assign(new Error(error.message), { name: error.code }));
      else span.setStatus({ code: SpanStatusCode.OK });
      span.end();
      if (outcome === 'completed' || outcome === 'cancelled') logger.info({ outcome, runMs }, `job ${outcome}`);
      else logger.warn({ outcome, runMs, err: error }, outcome === 'retried' ? 'job failed; it will be retried' : 'job failed');
    };
    // Limits count from when the task's code starts, not from a cold thread loading it.
    void execution.started.then(() => {
      if (this.running.get(job.id) === running) this.armTimeLimits(task, running);
    });
    try {
      if (this.recentCancels.has(job.id)) this.cancelRunning(job.id);
      const outcome = await execution.outcome;
      if (running.abortReason?.code === 'TASKYARD_ERR_LOCK_LOST' || !(await queued.holdsLock())) {
        // Another run owns the job now: this one must not add an ending to its log.
        this.lockLost(job.id);
        throw new Error(`Job ${job.id}: this worker lost the job's lock; another run replaces this one`);
      }
      if (outcome.ok) {
        await writer.write({ type: 'result', data: outcome.result }, { type: 'status', data: { status: 'completed', attempt: job.attempt } });
        ended('completed');
        return outcome.result;
      }
      return await this.fail(job, task, writer, running, outcome.error, retry, ended);
    } finally {
      for (const timer of running.timers) clearTimeout(timer);
      this.running.delete(job.id);
      if (spanOpen) {
        // Put back in the queue (shutdown), or handed to another run (lock lost): no ending of its own.
        span.setAttribute('taskyard.outcome', 'interrupted');
        span.end();
        logger.info('job run interrupted; it will run again');
      }
    }
  }

  private logWriteError(error: unknown, jobId: string): void {
    if (error instanceof FencedError) this.options.logger.warn({ jobId }, error.message);
    else this.options.logger.error({ err: error, jobId }, 'could not write job events');
  }

  private armTimeLimits(task: AnyTask, running: Running): void {
    if (task.timeoutMs !== undefined) {
      running.timers.push(
        setTimeout(
          () => this.abortRun(running, { code: 'TASKYARD_ERR_SOFT_TIMEOUT', message: `The job exceeded its soft time limit of ${task.timeoutMs} ms` }),
          task.timeoutMs,
        ),
      );
    }
    const hardMs = task.hardTimeoutMs ?? (task.timeoutMs !== undefined ? task.timeoutMs + this.cancelGraceMs : undefined);
    if (hardMs !== undefined) {
      running.timers.push(
        setTimeout(
          () =>
            running.execution.kill({
              name: 'TimeoutError',
              message: `The job exceeded its hard time limit of ${hardMs} ms and was killed`,
              code: 'TASKYARD_ERR_HARD_TIMEOUT',
            }),
          hardMs,
        ),
      );
    }
  }

  private async fail(
    job: EngineJob,
    task: AnyTask,
    writer: JobEventWriter,
    running: Running,
    raw: SerializedError,
    retry: { left: boolean; delayMs: number },
    ended: (outcome: JobOutcome, error?: JobError) => void,
  ): Promise<never> {
    const reason = running.abortReason?.code;
    if (reason === 'TASKYARD_ERR_SHUTDOWN') {
      await writer.write({ type: 'status', data: { status: 'queued', attempt: job.attempt, reason: 'The worker shut down; the job will run again' } });
      throw new RequeueError('worker shutdown');
    }
    const error: JobError = { code: 'TASKYARD_ERR_TASK_FAILED', message: raw.message, name: raw.name, attempt: job.attempt };
    if (raw.stack) error.stack = raw.stack;
    if (reason === 'TASKYARD_ERR_CANCELLED' || raw.code === 'TASKYARD_ERR_CANCELLED') {
      error.code = 'TASKYARD_ERR_CANCELLED';
      if (raw.code !== 'TASKYARD_ERR_CANCELLED') error.message = 'The job was cancelled';
      await writer.write(...failure(job.attempt, error, 'cancelled'));
      ended('cancelled', error);
      throw new NoRetryError(error.message);
    }
    if (raw.code === 'TASKYARD_ERR_HARD_TIMEOUT') error.code = 'TASKYARD_ERR_HARD_TIMEOUT';
    else if (reason === 'TASKYARD_ERR_SOFT_TIMEOUT') {
      error.code = 'TASKYARD_ERR_SOFT_TIMEOUT';
      error.message = `The job exceeded its soft time limit of ${task.timeoutMs} ms (${raw.message})`;
    } else if (raw.code === 'TASKYARD_ERR_INVALID_INPUT') error.code = 'TASKYARD_ERR_INVALID_INPUT';
    else if (raw.permanent) error.code = 'TASKYARD_ERR_PERMANENT';

    const permanent = error.code === 'TASKYARD_ERR_PERMANENT' || error.code === 'TASKYARD_ERR_INVALID_INPUT';
    if (!permanent && retry.left) {
      const { delayMs } = retry;
      await writer.write({ type: 'error', data: error }, { type: 'status', data: { status: 'retrying', attempt: job.attempt, delayMs } });
      ended('retried', error);
      throw new Error(error.message);
    }
    await writer.write(...failure(job.attempt, error, 'failed'));
    ended('failed', error);
    throw new NoRetryError(error.message);
  }
}

/**
 * The run's span, in the trace the job was enqueued in (its context travels in
 * the job), after a span for the time the job waited in the queue (first runs).
 */
function startRunSpans(job: EngineJob, readyAt: number | undefined, startedAt: number): Span {
  const parent = contextOf(job.trace);
  const attributes = { 'taskyard.job.id': job.id, 'taskyard.task': job.task, 'taskyard.queue': job.queue, 'taskyard.attempt': job.attempt };
  if (readyAt !== undefined && job.trace) {
    tracer().startSpan('queue wait', { kind: SpanKind.INTERNAL, startTime: Math.min(readyAt, startedAt), attributes }, parent).end(startedAt);
  }
  return tracer().startSpan(`run ${job.task}`, { kind: SpanKind.CONSUMER, startTime: startedAt, attributes }, parent);
}

function failure(attempt: number, error: JobError, status: 'failed' | 'cancelled'): NewEvent[] {
  return [
    { type: 'error', data: { ...error, attempt } },
    { type: 'status', data: { status, attempt } },
  ];
}

/** The delay BullMQ applies before the next attempt (its fixed and exponential strategies). */
export function backoffDelay(task: AnyTask, attempt: number): number {
  const { type, delayMs } = task.retry.backoff;
  return type === 'fixed' ? delayMs : Math.round(2 ** (attempt - 1) * delayMs);
}
