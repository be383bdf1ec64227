import pg from 'pg';
import {
  createPostgresBackend,
  type PostgresQueueBackend,
  type PostgresConnectionOptions,
  Queue,
  runMigrations,
  UnrecoverableError,
  WaitingError,
  Worker,
  type Job as BullJob,
  type PgPool,
} from 'bullmq';
import type { PglitePool } from './pglite-pool.js';

/** Which BullMQ backend runs the queues. Redis joins in a later change. */
export type EngineBackend =
  | { kind: 'pglite'; pool: PglitePool; schema: string }
  | { kind: 'postgres'; url: string; schema: string };

export interface EnqueueSpec {
  queue: string;
  jobId: string;
  task: string;
  input: unknown;
  /** 0..100, higher runs first. */
  priority: number;
  delayMs: number;
  attempts: number;
  backoff: { type: 'fixed' | 'exponential'; delayMs: number };
}

/** A job as the worker runtime sees it. */
export interface EngineJob {
  id: string;
  task: string;
  queue: string;
  input: unknown;
  /** 1-based number of this run. */
  attempt: number;
  maxAttempts: number;
}

export type EngineProcessor = (job: EngineJob) => Promise<unknown>;

/** Thrown by a processor: fail the job now, no retry left. */
export class NoRetryError extends Error {
  override readonly name = 'NoRetryError';
}

/** Thrown by a processor: put the job back in the queue untouched (e.g. on shutdown). */
export class RequeueError extends Error {
  override readonly name = 'RequeueError';
}

export interface EngineWorker {
  /** Stops taking jobs and waits for running ones; `force` abandons them. */
  close(force?: boolean): Promise<void>;
}

export interface WorkerOptions {
  concurrency: number;
  /** How long a job's lock lasts without renewal before another worker may take it. @defaultValue 30000 */
  lockDurationMs?: number;
}

// BullMQ's classes are generic over their backend; name ours once.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- BullMQ's own defaults for data/result
type PgQueue = Queue<any, any, string, any, any, string, PostgresQueueBackend, PostgresConnectionOptions>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- BullMQ's own defaults for data/result
type PgWorker = Worker<any, any, string, PostgresQueueBackend, any, PostgresConnectionOptions>;

/** BullMQ's priority 1 is the highest; ours is 0..100 with 100 the highest. */
const toBullPriority = (priority: number): number => 101 - priority;

/**
 * The only module that speaks BullMQ. Builds queues and workers for the
 * configured backend; the rest of Taskyard sees `enqueue`, `remove` and
 * `createWorker`.
 */
export class Engine {
  private readonly queues = new Map<string, PgQueue>();
  private readonly workers = new Set<PgWorker>();

  private constructor(private readonly connection: PostgresConnectionOptions) {}

  static async open(backend: EngineBackend): Promise<Engine> {
    if (backend.kind === 'pglite') {
      // One in-process session serves every queue and worker; its search_path
      // points BullMQ's unqualified names at the schema.
      const pool = backend.pool as unknown as PgPool;
      await migrateBullmq(pool, backend.schema);
      return new Engine(pool);
    }
    // BullMQ reads the schema only from a config object (a raw pool always means
    // "bullmq"), so each queue and worker gets a small pool of its own.
    const migrator = new pg.Pool({ connectionString: backend.url, max: 1 });
    try {
      await migrateBullmq(migrator as unknown as PgPool, backend.schema);
    } finally {
      await migrator.end();
    }
    return new Engine({ connectionString: backend.url, schema: backend.schema, max: 5, keepAlive: true });
  }

  private queue(name: string): PgQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      const created: PgQueue = new Queue(name, { connection: this.connection }, createPostgresBackend);
      created.on('error', () => undefined);
      this.queues.set(name, created);
      queue = created;
    }
    return queue;
  }

  async enqueue(spec: EnqueueSpec): Promise<void> {
    await this.queue(spec.queue).add(
      spec.task,
      { input: spec.input },
      {
        jobId: spec.jobId,
        priority: toBullPriority(spec.priority),
        delay: spec.delayMs,
        attempts: spec.attempts,
        backoff: { type: spec.backoff.type, delay: spec.backoff.delayMs },
        // Outcomes live in Taskyard's history: BullMQ need not keep finished jobs.
        // (Keeping "the last N" costs a sorted delete on every completion on PostgreSQL.)
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Removes a job that is waiting or delayed. False when it is running (locked) or gone. */
  async remove(queue: string, jobId: string): Promise<boolean> {
    try {
      const job = await this.queue(queue).getJob(jobId);
      if (!job) return false;
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
      return (await this.queue(queue).remove(jobId)) === 1;
    } catch {
      return false;
    }
  }

  createWorker(queueName: string, processor: EngineProcessor, options: WorkerOptions): EngineWorker {
    const worker: PgWorker = new Worker(
      queueName,
      async (job: BullJob, token?: string) => {
        try {
          return await processor(toEngineJob(job, queueName));
        } catch (error) {
          if (error instanceof NoRetryError) throw new UnrecoverableError(error.message);
          if (error instanceof RequeueError && token) {
            await job.moveToWait(token);
            throw new WaitingError();
          }
          throw error;
        }
      },
      {
        connection: this.connection,
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs ?? 30_000,
        // Job state and outcome live in our history; BullMQ need not keep logs.
        autorun: true,
      },
      createPostgresBackend,
    );
    // Connection errors are retried by BullMQ; they must not crash the process.
    worker.on('error', () => undefined);
    this.workers.add(worker);
    return {
      close: async (force = false) => {
        await worker.close(force);
        this.workers.delete(worker);
      },
    };
  }

  /** Reaches the backend through the default queue's connection. */
  async ping(): Promise<void> {
    await this.queue('default').getJobCounts('waiting');
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.workers].map((worker) => worker.close(true)));
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}

async function migrateBullmq(pool: PgPool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await runMigrations(client, schema);
  } finally {
    client.release();
  }
}

function toEngineJob(job: BullJob, queue: string): EngineJob {
  const data = job.data as { input?: unknown } | undefined;
  return {
    id: String(job.id),
    task: job.name,
    queue,
    input: data?.input ?? null,
    attempt: job.attemptsMade + 1,
    maxAttempts: job.opts.attempts ?? 1,
  };
}
