import pg from 'pg';
import {
  createPostgresBackend,
  type IQueueBackend,
  Queue,
  runMigrations,
  UnrecoverableError,
  WaitingError,
  Worker,
  type Job as BullJob,
  type PgPool,
  type QueueOptions,
  type WorkerOptions as BullWorkerOptions,
} from 'bullmq';
import type { PglitePool } from './pglite-pool.js';
import { connectRedis, untilReady, type RedisClient, type RedisTarget } from './redis-connection.js';

/** Which BullMQ backend runs the queues. */
export type EngineBackend =
  | { kind: 'pglite'; pool: PglitePool; schema: string }
  | { kind: 'postgres'; url: string; schema: string }
  /** `prefix` becomes BullMQ's key prefix inside a hash tag, so a queue's keys share one Cluster slot. */
  | { kind: 'redis'; target: RedisTarget; prefix: string };

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
  /** Trace context for the worker's spans (W3C `traceparent`…). */
  trace?: Record<string, string> | undefined;
}

/** A job as the worker runtime sees it. */
export interface EngineJob {
  id: string;
  task: string;
  queue: string;
  input: unknown;
  /** 1-based number of this attempt, as BullMQ counts them (re-runs after a stall are not counted). */
  attempt: number;
  maxAttempts: number;
  /** When the job could first run (enqueued, plus its delay), in ms since the epoch. */
  readyAt: number;
  /** The trace context it was enqueued in (W3C `traceparent`…), when tracing is on. */
  trace?: Record<string, string> | undefined;
  /**
   * Whether this worker still holds the job's lock (renewing it): false once a
   * stalled worker's job was handed to another one.
   */
  holdsLock(): Promise<boolean>;
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
  /** Whether its fetch loop runs (false once closed, or if it died). */
  isRunning(): boolean;
}

export interface WorkerOptions {
  concurrency: number;
  /**
   * How long a job's lock lasts without renewal before another worker may take
   * it (a stalled worker's job is re-run after about this long).
   * @defaultValue 30000
   */
  lockDurationMs?: number;
  /** Called when the lock of a job this worker runs could not be renewed: another worker may run it now. */
  onLockLost?: (jobId: string) => void;
}

// BullMQ's classes are generic over their backend; name ours once.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- BullMQ's own defaults for data/result
type AnyQueue = Queue<any, any, string, any, any, string, IQueueBackend, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- BullMQ's own defaults for data/result
type AnyWorker = Worker<any, any, string, IQueueBackend, any, any>;

/** How one backend builds BullMQ's classes. */
interface Backend {
  queue(name: string): AnyQueue;
  worker(name: string, processor: (job: BullJob, token?: string) => Promise<unknown>, options: Partial<BullWorkerOptions>): AnyWorker;
  ping(queue: AnyQueue): Promise<void>;
  close(): Promise<void>;
}

/** BullMQ's priority 1 is the highest; ours is 0..100 with 100 the highest. */
const toBullPriority = (priority: number): number => 101 - priority;

function jobOptions(spec: EnqueueSpec) {
  return {
    jobId: spec.jobId,
    priority: toBullPriority(spec.priority),
    delay: spec.delayMs,
    attempts: spec.attempts,
    backoff: { type: spec.backoff.type, delay: spec.backoff.delayMs },
    // Outcomes live in Taskyard's history: BullMQ need not keep finished jobs.
    // (Keeping "the last N" costs a sorted delete on every completion on PostgreSQL.)
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/**
 * The only module that speaks BullMQ. Builds queues and workers for the
 * configured backend; the rest of Taskyard sees `enqueue`, `remove` and
 * `createWorker`.
 */
export class Engine {
  private readonly queues = new Map<string, AnyQueue>();
  private readonly workers = new Set<AnyWorker>();

  private constructor(
    private readonly backend: Backend,
    readonly kind: EngineBackend['kind'],
  ) {}

  static async open(backend: EngineBackend): Promise<Engine> {
    if (backend.kind === 'redis') {
      const redis = redisBackend(backend.target, backend.prefix);
      try {
        await redis.ready();
      } catch (error) {
        await redis.close();
        throw error;
      }
      return new Engine(redis, 'redis');
    }
    if (backend.kind === 'pglite') {
      // One in-process session serves every queue and worker; its search_path
      // points BullMQ's unqualified names at the schema.
      const pool = backend.pool as unknown as PgPool;
      await migrateBullmq(pool, backend.schema);
      return new Engine(postgresBackend(pool), 'pglite');
    }
    // BullMQ reads the schema only from a config object (a raw pool always means
    // "bullmq"), so each queue and worker gets a small pool of its own.
    const migrator = new pg.Pool({ connectionString: backend.url, max: 1 });
    try {
      await migrateBullmq(migrator as unknown as PgPool, backend.schema);
    } finally {
      await migrator.end();
    }
    return new Engine(postgresBackend({ connectionString: backend.url, schema: backend.schema, max: 5, keepAlive: true }), 'postgres');
  }

  private queue(name: string): AnyQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = this.backend.queue(name);
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Jobs waiting to run in a queue (not counting delayed or running ones). */
  async waitingCount(queue: string): Promise<number> {
    const counts = await this.queue(queue).getJobCounts('waiting', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async enqueue(spec: EnqueueSpec): Promise<void> {
    await this.queue(spec.queue).add(spec.task, jobData(spec), jobOptions(spec));
  }

  /** Many jobs, one round trip per queue (BullMQ's addBulk: all of a queue's jobs or none). */
  async enqueueMany(specs: readonly EnqueueSpec[]): Promise<void> {
    const byQueue = new Map<string, EnqueueSpec[]>();
    for (const spec of specs) {
      const list = byQueue.get(spec.queue);
      if (list) list.push(spec);
      else byQueue.set(spec.queue, [spec]);
    }
    for (const [queue, list] of byQueue) {
      await this.queue(queue).addBulk(list.map((spec) => ({ name: spec.task, data: jobData(spec), opts: jobOptions(spec) })));
    }
  }

  /** The trace context a queued or running job carries (undefined once it is gone from the queue). */
  async traceOf(queue: string, jobId: string): Promise<Record<string, string> | undefined> {
    const job = await this.queue(queue).getJob(jobId);
    return (job?.data as { trace?: Record<string, string> } | undefined)?.trace;
  }

  /** What the engine holds for a queue: jobs waiting (paused ones included), running, delayed; and whether it is paused. */
  async queueState(queue: string): Promise<{ paused: boolean; waiting: number; active: number; delayed: number }> {
    const q = this.queue(queue);
    const [counts, paused] = await Promise.all([q.getJobCounts('waiting', 'prioritized', 'active', 'delayed'), q.isPaused()]);
    const n = (key: string): number => Number((counts as Record<string, number>)[key] ?? 0);
    return { paused, waiting: n('waiting') + n('prioritized'), active: n('active'), delayed: n('delayed') };
  }

  /** Workers everywhere stop taking the queue's jobs (running ones finish); they stay queued. */
  async pause(queue: string): Promise<void> {
    await this.queue(queue).pause();
  }

  async resume(queue: string): Promise<void> {
    await this.queue(queue).resume();
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
    const lockDuration = options.lockDurationMs ?? 30_000;
    const worker = this.backend.worker(
      queueName,
      async (job: BullJob, token?: string) => {
        try {
          return await processor(toEngineJob(job, queueName, this.kind === 'pglite' ? undefined : { token, lockDuration }));
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
        concurrency: options.concurrency,
        lockDuration,
        // Look for stalled jobs as often as a lock lasts, so a stalled job waits about one lock duration.
        stalledInterval: lockDuration,
        autorun: true,
      },
    );
    // Connection errors are retried by BullMQ; they must not crash the process.
    worker.on('error', () => undefined);
    const onLockLost = options.onLockLost;
    if (onLockLost) worker.on('lockRenewalFailed', (jobIds: string[]) => jobIds.forEach((id) => onLockLost(id)));
    this.workers.add(worker);
    return {
      close: async (force = false) => {
        await worker.close(force);
        this.workers.delete(worker);
      },
      isRunning: () => worker.isRunning(),
    };
  }

  /**
   * Creates or updates a BullMQ job scheduler: `queue` gets a job named `name`
   * with `data` every `every` ms or on the cron `pattern`, one per period
   * however many processes run.
   */
  async upsertSchedule(queue: string, spec: { id: string; every?: number | undefined; pattern?: string | undefined; name: string; data: unknown }): Promise<void> {
    const repeat = spec.every !== undefined ? { every: spec.every } : { pattern: spec.pattern! };
    await this.queue(queue).upsertJobScheduler(spec.id, repeat, {
      name: spec.name,
      data: spec.data,
      opts: { removeOnComplete: true, removeOnFail: true, attempts: 3, backoff: { type: 'exponential', delay: 1000 } },
    });
  }

  /** The job schedulers of a queue, by id, with their next run (ms since epoch). */
  async schedules(queue: string): Promise<Array<{ id: string; every?: number; pattern?: string; next?: number }>> {
    const found = await this.queue(queue).getJobSchedulers(0, -1, true);
    return found.map((scheduler) => {
      const out: { id: string; every?: number; pattern?: string; next?: number } = { id: scheduler.key };
      if (scheduler.every !== undefined && scheduler.every !== null) out.every = Number(scheduler.every);
      if (scheduler.pattern) out.pattern = scheduler.pattern;
      if (scheduler.next !== undefined && scheduler.next !== null) out.next = Number(scheduler.next);
      return out;
    });
  }

  async removeSchedule(queue: string, id: string): Promise<void> {
    await this.queue(queue).removeJobScheduler(id);
  }

  /** Reaches the backend through the default queue's connection. */
  async ping(): Promise<void> {
    await this.backend.ping(this.queue('default'));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.workers].map((worker) => worker.close(true)));
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
    await this.backend.close();
  }
}

function postgresBackend(connection: PgPool | QueueOptions['connection'] | object): Backend {
  return {
    queue: (name) => new Queue(name, { connection: connection as never }, createPostgresBackend) as unknown as AnyQueue,
    worker: (name, processor, options) =>
      new Worker(name, processor, { ...options, connection: connection as never }, createPostgresBackend) as unknown as AnyWorker,
    ping: async (queue) => {
      await queue.getJobCounts('waiting');
    },
    close: async () => undefined,
  };
}

/**
 * Redis: producers fail fast when Redis is away (no offline queue: the API
 * answers 503 at once), workers wait and reconnect (BullMQ requires
 * `maxRetriesPerRequest: null` on their connections).
 */
function redisBackend(target: RedisTarget, prefix: string): Backend & { ready(): Promise<void> } {
  const clients: RedisClient[] = [];
  const client = (options: { producer: boolean }): RedisClient => {
    const created = connectRedis(
      target,
      options.producer ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 } : { maxRetriesPerRequest: null },
    );
    created.on('error', () => undefined);
    clients.push(created);
    return created;
  };
  // Producers share one connection, made now so the first request finds it ready.
  const producer = client({ producer: true });
  let consumer: RedisClient | undefined;
  const bullPrefix = `{${prefix}}`;
  return {
    ready: () => untilReady(producer, 10_000, 'Redis'),
    queue: (name) => new Queue(name, { connection: producer, prefix: bullPrefix }) as unknown as AnyQueue,
    worker: (name, processor, options) =>
      new Worker(name, processor, { ...options, connection: (consumer ??= client({ producer: false })), prefix: bullPrefix }) as unknown as AnyWorker,
    ping: async () => {
      await producer.ping();
    },
    close: async () => {
      await Promise.allSettled(clients.map((c) => c.quit()));
      for (const c of clients) c.disconnect();
    },
  };
}

async function migrateBullmq(pool: PgPool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await runMigrations(client, schema);
  } finally {
    client.release();
  }
}

/**
 * `lock`: how to check the job's lock. The embedded backend has none to check:
 * its one process both renews locks and looks for stalled jobs.
 */
/** What a job carries in BullMQ: its input, and its trace context when there is one. */
function jobData(spec: EnqueueSpec): { input: unknown; trace?: Record<string, string> } {
  return spec.trace ? { input: spec.input, trace: spec.trace } : { input: spec.input };
}

function toEngineJob(job: BullJob, queue: string, lock: { token: string | undefined; lockDuration: number } | undefined): EngineJob {
  const data = job.data as { input?: unknown; trace?: Record<string, string> } | undefined;
  return {
    holdsLock: async () => {
      if (!lock?.token) return true;
      try {
        return (await job.extendLock(lock.token, lock.lockDuration)) === 1;
      } catch {
        return false;
      }
    },
    id: String(job.id),
    task: job.name,
    queue,
    input: data?.input ?? null,
    attempt: job.attemptsMade + 1,
    maxAttempts: job.opts.attempts ?? 1,
    readyAt: job.timestamp + (job.opts.delay ?? 0),
    trace: data?.trace,
  };
}
