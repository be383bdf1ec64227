import type { RedisClient } from '../engine/redis-connection.js';
import type { RedisPubSub } from '../events/redis-pubsub.js';
import type { Database } from '../history/database.js';

/**
 * Fire-and-forget messages to every process of a deployment: Redis pub/sub
 * when Redis is configured, PostgreSQL NOTIFY otherwise (PGlite's NOTIFY
 * reaches the one embedded process). Channels are namespaced per deployment.
 * A subscriber that is disconnected misses what was published meanwhile.
 */
export interface Broadcast {
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
}

/** NOTIFY's payload limit is 8000 bytes; keep every backend to the same. */
const MAX_MESSAGE_BYTES = 7900;

function checkSize(message: string): void {
  if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) throw new RangeError(`A broadcast message is limited to ${MAX_MESSAGE_BYTES} bytes`);
}

export function redisBroadcast(client: RedisClient, pubsub: RedisPubSub, prefix: string): Broadcast {
  const name = (channel: string): string => `${prefix}:broadcast:${channel}`;
  return {
    async publish(channel, message) {
      checkSize(message);
      await client.publish(name(channel), message);
    },
    subscribe: (channel, onMessage) => pubsub.subscribe(name(channel), onMessage),
  };
}

export function pgBroadcast(db: Database, namespace: string): Broadcast {
  const name = (channel: string): string => `${namespace}:${channel}`;
  return {
    async publish(channel, message) {
      checkSize(message);
      await db.query('SELECT pg_notify($1, $2)', [name(channel), message]);
    },
    subscribe: (channel, onMessage) => db.listen(name(channel), onMessage),
  };
}
