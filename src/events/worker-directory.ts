import type { RedisClient } from '../engine/redis-connection.js';

/** A job a worker holds right now. */
export interface ActiveJob {
  jobId: string;
  task: string;
  queue: string;
  startedAt: string;
}

/** What a worker process says of itself on each heartbeat. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  /** Jobs at once, per queue. */
  concurrency: number;
  active: ActiveJob[];
  startedAt: string;
  heartbeatAt: string;
}

/** A worker as the API lists it. */
export interface ListedWorker extends WorkerInfo {
  /** Heard from within the last few heartbeats. */
  alive: boolean;
}

/** How often workers beat (it also refreshes the jobs they show in hand). */
export const HEARTBEAT_MS = 2_000;
/** Silent this long (several missed beats, beyond a busy moment): not alive. */
export const ALIVE_MS = 15_000;
/** Silent this long: forgotten. */
export const FORGET_MS = 5 * 60_000;

/**
 * Where workers announce themselves and the API reads who is there: a table in
 * history, or a Redis hash when Redis is the backend (a Redis worker may have no
 * database).
 */
export interface WorkerDirectory {
  beat(info: WorkerInfo): Promise<void>;
  remove(id: string): Promise<void>;
  /** Newest heartbeat first; the long-silent ones are dropped. */
  list(now?: number): Promise<ListedWorker[]>;
}

/** Alive flags, newest first, the forgotten left out; returns the ids to forget too. */
export function listed(infos: readonly WorkerInfo[], now: number): { workers: ListedWorker[]; forget: string[] } {
  const workers: ListedWorker[] = [];
  const forget: string[] = [];
  for (const info of infos) {
    const silentMs = now - Date.parse(info.heartbeatAt);
    if (silentMs > FORGET_MS) forget.push(info.id);
    else workers.push({ ...info, alive: silentMs <= ALIVE_MS });
  }
  workers.sort((a, b) => Date.parse(b.heartbeatAt) - Date.parse(a.heartbeatAt));
  return { workers, forget };
}

export class RedisWorkerDirectory implements WorkerDirectory {
  constructor(
    private readonly client: RedisClient,
    private readonly key: string,
  ) {}

  async beat(info: WorkerInfo): Promise<void> {
    await this.client.hset(this.key, info.id, JSON.stringify(info));
  }

  async remove(id: string): Promise<void> {
    await this.client.hdel(this.key, id);
  }

  async list(now = Date.now()): Promise<ListedWorker[]> {
    const entries = await this.client.hgetall(this.key);
    const infos = Object.values(entries).flatMap((text) => {
      try {
        return [JSON.parse(text) as WorkerInfo];
      } catch {
        return [];
      }
    });
    const { workers, forget } = listed(infos, now);
    if (forget.length > 0) await this.client.hdel(this.key, ...forget);
    return workers;
  }
}
