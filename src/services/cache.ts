import { LRUCache } from 'lru-cache';
import type { RedisClient } from '../engine/redis-connection.js';
import type { Broadcast } from './broadcast.js';

/**
 * A JSON cache for cache-aside reads: Redis when configured (shared by every
 * process), else an in-process LRU whose deletions are broadcast so that every
 * process drops the entry (nothing stale after an update, on any backend).
 */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** Deletes the keys here and in every other process's cache. */
  delete(...keys: string[]): Promise<void>;
}

export function redisCache(client: RedisClient, prefix: string): Cache {
  const name = (key: string): string => `${prefix}:cache:${key}`;
  return {
    kind: 'redis',
    async get<T>(key: string) {
      const text = await client.get(name(key));
      return text === null ? undefined : (JSON.parse(text) as T);
    },
    async set(key, value, ttlMs) {
      await client.set(name(key), JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
    },
    async delete(...keys) {
      // One DEL per key: on a Cluster the keys may live in different slots.
      await Promise.all(keys.map((key) => client.del(name(key))));
    },
  };
}

const INVALIDATE = 'cache-invalidate';

/** The in-process LRU; `subscribe` must be awaited before the cache is trusted across processes. */
export async function memoryCache(broadcast: Broadcast, options: { max?: number } = {}): Promise<Cache & { close(): Promise<void> }> {
  const lru = new LRUCache<string, { json: string }>({ max: options.max ?? 10_000 });
  const unsubscribe = await broadcast.subscribe(INVALIDATE, (message) => {
    for (const key of JSON.parse(message) as string[]) lru.delete(key);
  });
  return {
    kind: 'memory',
    async get<T>(key: string) {
      const entry = lru.get(key);
      // Stored as JSON so a caller cannot mutate the cached value.
      return entry === undefined ? undefined : (JSON.parse(entry.json) as T);
    },
    async set(key, value, ttlMs) {
      lru.set(key, { json: JSON.stringify(value) }, { ttl: Math.max(1, Math.round(ttlMs)) });
    },
    async delete(...keys) {
      for (const key of keys) lru.delete(key);
      await broadcast.publish(INVALIDATE, JSON.stringify(keys));
    },
    close: unsubscribe,
  };
}
