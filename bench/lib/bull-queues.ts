// BullMQ as the bench drives it from outside: a raw Queue + Worker baseline (on
// Redis, PostgreSQL or an in-process PGlite) and cleanup of a run's keys. (The "only src/engine
// imports bullmq" rule covers src/, not bench/.)
import { Redis } from 'ioredis';
import pg from 'pg';
import { createPostgresBackend, Queue, runMigrations, Worker, type ConnectionOptions, type PgPool } from 'bullmq';
import { PglitePool } from '../../src/engine/pglite-pool.js';

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
/** Where a raw BullMQ baseline keeps its queue. */
export type RawTarget =
  | { kind: 'redis'; url: string; prefix: string }
  /** BullMQ's PostgreSQL backend, its tables in `schema` (made here, dropped by the caller). */
  | { kind: 'postgres'; url: string; schema: string }
  /** BullMQ's PostgreSQL backend on a PGlite in this process, as Taskyard's embedded mode runs it. */
  | { kind: 'pglite'; dataDir: string };

// Each class of BullMQ is generic over its backend; the bench needs only one shape of each.
type AnyQueue = Pick<Queue, 'pause' | 'resume' | 'addBulk' | 'obliterate' | 'close' | 'on'>;
type AnyWorker = Pick<Worker, 'close' | 'on'>;

export class RawBullmq {
  private finished = 0;
  private completed = 0;
  private lastAt = 0;
  private goal: { finished: number; resolve: () => void } | undefined;

  private constructor(
    private readonly queue: AnyQueue,
    private readonly worker: AnyWorker,
    private readonly release: () => Promise<void> = async () => undefined,
  ) {
    worker.on('completed', () => this.count(true));
    worker.on('failed', () => this.count(false));
    worker.on('error', () => undefined);
    queue.on('error', () => undefined);
  }

  static async open(target: RawTarget, concurrency: number): Promise<RawBullmq> {
    const processor = async (): Promise<undefined> => undefined;
    if (target.kind === 'redis') {
      const connection = bullConnection(target.url);
      const queue = new Queue('noop', { connection, prefix: target.prefix });
      const worker = new Worker('noop', processor, { connection, prefix: target.prefix, concurrency, autorun: true });
      return new RawBullmq(queue, worker);
    }
    if (target.kind === 'postgres') {
      // As src/engine does: migrate once, then a small pool per queue and worker (the schema comes only from a config object).
      const migrator = new pg.Pool({ connectionString: target.url, max: 1 });
      try {
        await migrate(migrator as unknown as PgPool, target.schema);
      } finally {
        await migrator.end();
      }
      const connection = { connectionString: target.url, schema: target.schema, max: 5, keepAlive: true } as never;
      const queue = new Queue('noop', { connection }, createPostgresBackend) as unknown as AnyQueue;
      const worker = new Worker('noop', processor, { connection, concurrency, autorun: true }, createPostgresBackend) as unknown as AnyWorker;
      return new RawBullmq(queue, worker);
    }
    // PGlite: one in-process session, BullMQ's unqualified names found through search_path (src/open-storage.ts).
    const schema = 'bullmq';
    const pool = await PglitePool.open({ dataDir: target.dataDir, searchPath: [schema] });
    await migrate(pool as unknown as PgPool, schema);
    const connection = pool as never;
    const queue = new Queue('noop', { connection }, createPostgresBackend) as unknown as AnyQueue;
    const worker = new Worker('noop', processor, { connection, concurrency, autorun: true }, createPostgresBackend) as unknown as AnyWorker;
    return new RawBullmq(queue, worker, () => pool.end());
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
    await this.release();
  }
}

async function migrate(pool: PgPool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await runMigrations(client, schema);
  } finally {
    client.release();
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
