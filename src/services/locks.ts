import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Mutex } from 'redis-semaphore';
import type { RedisClient } from '../engine/redis-connection.js';

/**
 * Named mutual exclusion across a deployment, as leases: a holder gets a token
 * and keeps the lock by extending it within `ttlMs`; a holder that dies (or is
 * killed) stops extending and the lock frees itself. Every method takes and
 * returns plain values, so a task can use it through `ctx.host`.
 *
 * - Redis: redis-semaphore's Mutex (a key with a TTL).
 * - PostgreSQL: a session advisory lock on a connection of its own; PostgreSQL
 *   frees it when the process dies, and it is given up here when not extended.
 * - Embedded (PGlite): one process owns the data dir, so an in-process table of
 *   leases is the whole deployment's lock.
 */
export interface Locks {
  readonly kind: 'redis' | 'postgres' | 'memory';
  /** Takes `name` for `ttlMs` if it is free: a token, or null while someone else holds it. */
  tryAcquire(name: string, ttlMs: number): Promise<string | null>;
  /** Holds it another `ttlMs`; false when the lease was lost (it expired). */
  extend(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Gives it up (a lost or unknown token is ignored). */
  release(name: string, token: string): Promise<void>;
}

export function redisLocks(client: RedisClient, prefix: string): Locks {
  const mutex = (name: string, ttlMs: number, token?: string): Mutex =>
    new Mutex(client, `${prefix}:lock:${name}`, {
      lockTimeout: ttlMs,
      acquireAttemptsLimit: 1,
      // The holder extends explicitly; a holder that died must not be kept alive by a timer here.
      refreshInterval: 0,
      ...(token ? { identifier: token, acquiredExternally: true as const } : {}),
    });
  return {
    kind: 'redis',
    async tryAcquire(name, ttlMs) {
      const lock = mutex(name, ttlMs);
      return (await lock.tryAcquire()) ? lock.identifier : null;
    },
    // With acquiredExternally, tryAcquire refreshes the TTL if (and only if) the token still holds it.
    extend: (name, token, ttlMs) => mutex(name, ttlMs, token).tryAcquire(),
    release: (name, token) => mutex(name, 1000, token).release(),
  };
}

interface PgLease {
  client: pg.Client;
  timer: NodeJS.Timeout;
}

export function postgresLocks(connectionString: string): Locks & { close(): Promise<void> } {
  const leases = new Map<string, PgLease>();
  const drop = async (token: string): Promise<void> => {
    const lease = leases.get(token);
    if (!lease) return;
    leases.delete(token);
    clearTimeout(lease.timer);
    // Closing the session releases its advisory locks.
    await lease.client.end().catch(() => undefined);
  };
  const arm = (token: string, ttlMs: number): NodeJS.Timeout => setTimeout(() => void drop(token), ttlMs).unref();
  return {
    kind: 'postgres',
    async tryAcquire(name, ttlMs) {
      const client = new pg.Client({ connectionString, keepAlive: true });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`taskyard:lock:${name}`]);
        if (!rows[0]?.ok) {
          await client.end();
          return null;
        }
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      const token = randomUUID();
      leases.set(token, { client, timer: arm(token, ttlMs) });
      return token;
    },
    async extend(_name, token, ttlMs) {
      const lease = leases.get(token);
      if (!lease) return false;
      clearTimeout(lease.timer);
      lease.timer = arm(token, ttlMs);
      return true;
    },
    release: (_name, token) => drop(token),
    async close() {
      await Promise.all([...leases.keys()].map(drop));
    },
  };
}

export function memoryLocks(): Locks {
  const held = new Map<string, { token: string; expiresAt: number }>();
  const current = (name: string): { token: string; expiresAt: number } | undefined => {
    const lease = held.get(name);
    if (lease && lease.expiresAt <= Date.now()) {
      held.delete(name);
      return undefined;
    }
    return lease;
  };
  return {
    kind: 'memory',
    async tryAcquire(name, ttlMs) {
      if (current(name)) return null;
      const token = randomUUID();
      held.set(name, { token, expiresAt: Date.now() + ttlMs });
      return token;
    },
    async extend(name, token, ttlMs) {
      const lease = current(name);
      if (lease?.token !== token) return false;
      lease.expiresAt = Date.now() + ttlMs;
      return true;
    },
    async release(name, token) {
      if (current(name)?.token === token) held.delete(name);
    },
  };
}
