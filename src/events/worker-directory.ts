import type { RedisClient } from '../engine/redis-connection.js';
import type { ListedWorker, WorkerInfo } from './worker-info.js';

export type { ActiveJob, ListedWorker, WorkerInfo } from './worker-info.js';

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
