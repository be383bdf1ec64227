import type { Config } from '../config.js';
import type { RedisClient } from '../engine/redis-connection.js';
import type { RedisPubSub } from '../events/redis-pubsub.js';
import type { Database } from '../history/database.js';
import { pgBroadcast, redisBroadcast, type Broadcast } from './broadcast.js';
import { memoryCache, redisCache, type Cache } from './cache.js';
import { memoryLocks, postgresLocks, redisLocks, type Locks } from './locks.js';

/** The building blocks apps on Taskyard share, on whatever backend is configured. */
export interface Services {
  cache: Cache;
  broadcast: Broadcast;
  locks: Locks;
  close(): Promise<void>;
}

export interface RedisHandles {
  /** Waits out an outage (for writes that must land). */
  client: RedisClient;
  /** Fails fast (for reads on a request's path). */
  fast: RedisClient;
  pubsub: RedisPubSub;
}

export async function openServices(config: Config, db: Database, redis: RedisHandles | undefined): Promise<Services> {
  if (redis) {
    return {
      cache: redisCache(redis.fast, config.redisPrefix),
      broadcast: redisBroadcast(redis.client, redis.pubsub, config.redisPrefix),
      locks: redisLocks(redis.client, config.redisPrefix),
      close: async () => undefined,
    };
  }
  const broadcast = pgBroadcast(db, config.historySchema);
  const cache = await memoryCache(broadcast);
  const sessionLocks = config.databaseUrl ? postgresLocks(config.databaseUrl) : undefined;
  return {
    cache,
    broadcast,
    locks: sessionLocks ?? memoryLocks(),
    async close() {
      await cache.close();
      await sessionLocks?.close();
    },
  };
}
