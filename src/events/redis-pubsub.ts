import { connectRedis, type RedisClient, type RedisTarget } from '../engine/redis-connection.js';

type Handler = (message: string) => void;

/**
 * One subscriber connection shared by every channel a process listens to
 * (event notes, cancels). Pub/sub is fire-and-forget: after a reconnect the
 * `onResync` hooks run, so listeners can re-read what they may have missed.
 */
export class RedisPubSub {
  private subscriber: RedisClient | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly resyncHooks = new Set<() => void>();
  private connectedOnce = false;

  constructor(private readonly target: RedisTarget) {}

  async subscribe(channel: string, handler: Handler, onResync?: () => void): Promise<() => Promise<void>> {
    const subscriber = this.connection();
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await subscriber.subscribe(channel);
    }
    set.add(handler);
    if (onResync) this.resyncHooks.add(onResync);
    return async () => {
      if (onResync) this.resyncHooks.delete(onResync);
      const current = this.handlers.get(channel);
      current?.delete(handler);
      if (current?.size === 0) {
        this.handlers.delete(channel);
        await subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.handlers.clear();
    this.resyncHooks.clear();
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private connection(): RedisClient {
    if (this.subscriber) return this.subscriber;
    const subscriber = connectRedis(this.target);
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
    subscriber.on('ready', () => {
      // ioredis re-subscribes by itself; what was published meanwhile is lost.
      if (this.connectedOnce) for (const hook of this.resyncHooks) hook();
      this.connectedOnce = true;
    });
    this.subscriber = subscriber;
    return subscriber;
  }
}
