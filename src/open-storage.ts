import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { Config } from './config.js';
import { Engine } from './engine/engine.js';
import { PglitePool } from './engine/pglite-pool.js';
import { connectRedis, parseRedisUrl, redactRedisUrl, untilReady, type RedisClient, type RedisTarget } from './engine/redis-connection.js';
import { pgCancelBus, redisCancelBus, type CancelBus } from './events/cancel-bus.js';
import type { EventLog } from './events/event-log.js';
import { PgEventLog } from './events/pg-event-log.js';
import { RedisEventLog } from './events/redis-event-log.js';
import { RedisKeys } from './events/redis-keys.js';
import { RedisProjector } from './events/redis-projector.js';
import { RedisPubSub } from './events/redis-pubsub.js';
import { RedisWorkerDirectory, type WorkerDirectory } from './events/worker-directory.js';
import { TaskyardError } from './errors.js';
import { pgliteDatabase, postgresDatabase, type Database } from './history/database.js';
import { JobStore } from './history/jobs.js';
import { PgWorkerDirectory } from './history/workers.js';
import type { Logger } from './logger.js';
import type { RedisHandles } from './services/open-services.js';

/** Which parts run in this process. */
export type Role = 'all' | 'api' | 'worker';

/** How long start-up waits for Redis before giving up with a clear error. */
const REDIS_START_TIMEOUT_MS = 10_000;

/**
 * The storage a process needs for its role: the queue engine, and (unless it
 * is a worker on Redis, which writes only to Redis) the history database.
 */
export async function openStorage(config: Config, logger: Logger, role: Role): Promise<{ db: Database | undefined; engine: Engine }> {
  if (config.redisUrl) {
    const target = parseRedisUrl(config.redisUrl);
    // A worker writes only to Redis, but opens --database when given: recipes' tasks read their data there.
    const db = role === 'worker' && !config.databaseUrl ? undefined : await openHistoryOnly(config, logger);
    try {
      const engine = await Engine.open({ kind: 'redis', target, prefix: config.redisPrefix });
      return { db, engine };
    } catch (error) {
      await db?.close();
      throw error;
    }
  }
  if (config.databaseUrl) {
    const db = postgresDatabase(config.databaseUrl);
    try {
      const engine = await Engine.open({ kind: 'postgres', url: config.databaseUrl, schema: config.engineSchema });
      return { db, engine };
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  if (role === 'worker' || role === 'api') {
    logger.warn('the embedded database serves one process: run `taskyard start`, or give --database to split API and workers');
  }
  const { db, pool } = await openEmbedded(config);
  try {
    const engine = await Engine.open({ kind: 'pglite', pool, schema: config.engineSchema });
    return { db, engine };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** One process per embedded data dir: a second one would corrupt it. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  try {
    return await lockfile.lock(dataDir, { lockfilePath: path.join(dataDir, 'taskyard.lock'), stale: 15_000, update: 5_000, onCompromised: () => undefined });
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') {
      throw new TaskyardError(
        'TASKYARD_ERR_CONFIG',
        `The data dir ${dataDir} is in use by another Taskyard process. The embedded database serves one process: ` +
          'stop the other one, choose another --data-dir, or use --database postgres://… to run API and workers apart.',
      );
    }
    throw error;
  }
}

/** Redis mode: history in PostgreSQL, or in an embedded PGlite that holds only history. */
async function openHistoryOnly(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl) return postgresDatabase(config.databaseUrl);
  logger.debug('history in the embedded PGlite of this API process');
  const { db } = await openEmbedded(config);
  return db;
}

/** The event log, cancel bus and (for API processes on Redis) the projector. */
export interface EventTransport {
  log: EventLog;
  cancelBus: CancelBus;
  projector: RedisProjector | undefined;
  /** Where workers announce themselves (heartbeats) and the API lists them. */
  workers: WorkerDirectory;
  /** Redis mode: the connections, for the services built on them (cache, locks, broadcast). */
  redis: RedisHandles | undefined;
  close(): Promise<void>;
}

export async function openEventTransport(config: Config, logger: Logger, role: Role, store: JobStore | undefined): Promise<EventTransport> {
  if (!config.redisUrl) {
    if (!store) throw new Error('history is required without Redis');
    return {
      log: new PgEventLog(store),
      cancelBus: pgCancelBus(store),
      projector: undefined,
      workers: new PgWorkerDirectory(store.db, store.schema),
      redis: undefined,
      close: async () => undefined,
    };
  }
  const target: RedisTarget = parseRedisUrl(config.redisUrl);
  const keys = new RedisKeys(config.redisPrefix);
  // Appends wait out an outage; what API requests do fails fast (a 503, not a hang).
  const client: RedisClient = connectRedis(target);
  const fast: RedisClient = connectRedis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  for (const c of [client, fast]) c.on('error', () => undefined);
  const pubsub = new RedisPubSub(target);
  const close = async (): Promise<void> => {
    await pubsub.close();
    for (const c of [client, fast]) await c.quit().catch(() => c.disconnect());
  };
  try {
    const where = `Redis at ${redactRedisUrl(config.redisUrl)}`;
    await Promise.all([untilReady(client, REDIS_START_TIMEOUT_MS, where), untilReady(fast, REDIS_START_TIMEOUT_MS, where)]);
    const log = new RedisEventLog(client, keys, pubsub, store, fast);
    const cancelBus = redisCancelBus(fast, pubsub, keys.cancelChannel);
    const projector =
      role !== 'worker' && store ? new RedisProjector({ target, client, keys, store, logger, claimIdleMs: config.projectorClaimMs }) : undefined;
    return { log, cancelBus, projector, workers: new RedisWorkerDirectory(fast, keys.workers), redis: { client, fast, pubsub }, close };
  } catch (error) {
    await close();
    throw new TaskyardError('TASKYARD_ERR_CONFIG', (error as Error).message);
  }
}

/** The embedded PGlite in the data dir (locked: one process per data dir). */
async function openEmbedded(config: Config): Promise<{ db: Database; pool: PglitePool }> {
  const dataDir = config.dataDir === 'memory://' ? 'memory://' : path.resolve(config.dataDir);
  const unlock = dataDir === 'memory://' ? undefined : await lockDataDir(dataDir);
  const pool = await PglitePool.open({ dataDir, searchPath: [config.engineSchema] });
  const stopVacuum = pool.autovacuum();
  const inner = pgliteDatabase(pool, { ownsPool: true });
  const db: Database = {
    ...inner,
    async close() {
      stopVacuum();
      await inner.close();
      await unlock?.();
    },
  };
  return { db, pool };
}
