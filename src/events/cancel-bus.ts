import type { RedisClient } from '../engine/redis-connection.js';
import type { JobStore } from '../history/jobs.js';
import type { RedisPubSub } from './redis-pubsub.js';

/**
 * Carries "stop job X" from the API to whichever worker process holds X:
 * PostgreSQL NOTIFY, or a Redis channel when Redis is the backend. Every worker
 * hears every cancel and acts on the jobs it runs.
 */
export interface CancelBus {
  publish(jobId: string): Promise<void>;
  subscribe(onCancel: (jobId: string) => void): Promise<() => Promise<void>>;
}

export function pgCancelBus(store: JobStore): CancelBus {
  return {
    publish: (jobId) => store.announceCancel(jobId),
    subscribe: (onCancel) => store.db.listen(store.cancelChannel, onCancel),
  };
}

export function redisCancelBus(client: RedisClient, pubsub: RedisPubSub, channel: string): CancelBus {
  return {
    publish: async (jobId) => {
      await client.publish(channel, jobId);
    },
    subscribe: (onCancel) => pubsub.subscribe(channel, onCancel),
  };
}
