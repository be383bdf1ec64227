// BullMQ on Redis, as the bench drives it from outside: a raw Queue + Worker
// baseline, a handle on a Taskyard queue to pause and resume it, and cleanup of
// a run's keys. (The "only src/engine imports bullmq" rule covers src/, not bench/.)
import { Redis } from 'ioredis';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';

/** BullMQ connection settings for a plain redis:// URL (workers need `maxRetriesPerRequest: null`). */
export function bullConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  const db = url.pathname.slice(1);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * A Taskyard queue on Redis, reached with BullMQ directly. Taskyard's engine puts
 * its prefix in a hash tag (`{prefix}`); this mirrors that.
 */
export function taskyardQueue(redisUrl: string, prefix: string, name: string): Queue {
  const queue = new Queue(name, { connection: bullConnection(redisUrl), prefix: `{${prefix}}` });
  queue.on('error', () => undefined);
  return queue;
}

export interface RawBatch {
  jobs: number;
  completed: number;
  failed: number;
  /** Resume → the last job's `completed` event. */
  seconds: number;
  completedPerS: number;
}

/**
 * The baseline: a plain BullMQ Queue and Worker in this process, a no-op
 * processor, the same job options Taskyard uses (removeOnComplete/-Fail).
 */
export class RawBullmq {
  private finished = 0;
  private completed = 0;
  private lastAt = 0;
  private goal: { finished: number; resolve: () => void } | undefined;

  private constructor(
    private readonly queue: Queue,
    private readonly worker: Worker,
  ) {
    worker.on('completed', () => this.count(true));
    worker.on('failed', () => this.count(false));
    worker.on('error', () => undefined);
    queue.on('error', () => undefined);
  }

  static open(redisUrl: string, prefix: string, concurrency: number): RawBullmq {
    const connection = bullConnection(redisUrl);
    const queue = new Queue('noop', { connection, prefix });
    const worker = new Worker('noop', async () => undefined, { connection, prefix, concurrency, autorun: true });
    return new RawBullmq(queue, worker);
  }

  private count(completed: boolean): void {
    this.finished++;
    if (completed) this.completed++;
    this.lastAt = Date.now();
    if (this.goal && this.finished >= this.goal.finished) this.goal.resolve();
  }

  /** Pauses the queue and enqueues `jobs` with addBulk (not timed). */
  async fill(jobs: number): Promise<void> {
    await this.queue.pause();
    for (let added = 0; added < jobs; added += 1000) {
      const size = Math.min(1000, jobs - added);
      await this.queue.addBulk(
        Array.from({ length: size }, () => ({ name: 'bench-noop', data: { input: {} }, opts: { removeOnComplete: true, removeOnFail: true } })),
      );
    }
  }

  /** Resumes the queue and times the worker until `jobs` more are done. */
  async drain(jobs: number, timeoutMs: number): Promise<RawBatch> {
    const finished0 = this.finished;
    const completed0 = this.completed;
    const allDone = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw BullMQ: ${jobs} jobs not done within ${timeoutMs} ms`)), timeoutMs);
      this.goal = {
        finished: finished0 + jobs,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
    const t0 = Date.now();
    await this.queue.resume();
    await allDone;
    this.goal = undefined;
    const seconds = (this.lastAt - t0) / 1000;
    const completed = this.completed - completed0;
    return { jobs, completed, failed: this.finished - finished0 - completed, seconds, completedPerS: completed / seconds };
  }

  async close(): Promise<void> {
    await this.worker.close(true);
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
  }
}

/** Deletes every key matching `pattern` (e.g. `{bench-x}*`), so a run leaves Redis as it found it. */
export async function dropKeys(redisUrl: string, pattern: string): Promise<number> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    let dropped = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) dropped += await redis.unlink(...keys);
    } while (cursor !== '0');
    return dropped;
  } finally {
    redis.disconnect();
  }
}
