import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectRedis, parseRedisUrl, type RedisClient } from '../../src/engine/redis-connection.js';
import { RedisPubSub } from '../../src/events/redis-pubsub.js';
import { postgresDatabase, type Database } from '../../src/history/database.js';
import { pgBroadcast, redisBroadcast, type Broadcast } from '../../src/services/broadcast.js';
import { memoryCache, redisCache } from '../../src/services/cache.js';
import { memoryLocks, postgresLocks, redisLocks, type Locks } from '../../src/services/locks.js';
import { DATABASE_URL, deleteRedisKeys, REDIS_URL, uniqueName, until } from '../helpers/taskyard.js';

const eventually = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> => {
  await until(what, async () => ((await check()) ? true : undefined), timeoutMs);
};

const prefix = uniqueName('svc');
let redis: RedisClient;
let pubsub: RedisPubSub;
let db: Database;
const closers: Array<() => Promise<unknown>> = [];

before(async () => {
  redis = connectRedis(parseRedisUrl(REDIS_URL));
  pubsub = new RedisPubSub(parseRedisUrl(REDIS_URL));
  db = postgresDatabase(DATABASE_URL);
});
after(async () => {
  for (const close of closers) await close();
  await pubsub.close();
  await db.close();
  redis.disconnect();
  await deleteRedisKeys(REDIS_URL, prefix);
});

const lockKinds: Array<[string, () => Locks]> = [
  ['memory', () => memoryLocks()],
  [
    'postgres',
    () => {
      const locks = postgresLocks(DATABASE_URL);
      closers.push(() => locks.close());
      return locks;
    },
  ],
  ['redis', () => redisLocks(redis, `{${prefix}}`)],
];

for (const [kind, make] of lockKinds) {
  describe(`locks [${kind}]`, () => {
    test('one holder at a time; release frees it; a stale token changes nothing', async () => {
      const locks = make();
      const name = uniqueName('lock');
      const token = await locks.tryAcquire(name, 10_000);
      assert.ok(token);
      assert.equal(await locks.tryAcquire(name, 10_000), null);
      await locks.release(name, 'not-the-token');
      assert.equal(await locks.tryAcquire(name, 10_000), null);
      await locks.release(name, token);
      const next = await locks.tryAcquire(name, 10_000);
      assert.ok(next);
      assert.equal(await locks.extend(name, token, 10_000), false, 'the old token no longer holds it');
      await locks.release(name, next);
    });

    test('a holder that stops extending (it died) loses the lock once its lease runs out', async () => {
      const locks = make();
      const name = uniqueName('lock');
      const token = await locks.tryAcquire(name, 300);
      assert.ok(token);
      assert.equal(await locks.extend(name, token, 300), true);
      await eventually('the lease to run out', async () => {
        const taken = await locks.tryAcquire(name, 10_000);
        if (taken) await locks.release(name, taken);
        return taken !== null;
      });
      assert.equal(await locks.extend(name, token, 300), false);
    });
  });
}

test('locks [postgres]: a process that dies holding the lock frees it (its session ends)', async () => {
  const name = uniqueName('lock');
  const dying = postgresLocks(DATABASE_URL);
  assert.ok(await dying.tryAcquire(name, 60_000));
  const other = postgresLocks(DATABASE_URL);
  closers.push(() => other.close());
  assert.equal(await other.tryAcquire(name, 60_000), null);
  // close() ends the sessions as a process exit would.
  await dying.close();
  await eventually('the advisory lock to be freed', async () => (await other.tryAcquire(name, 60_000)) !== null);
});

const broadcastKinds: Array<[string, () => Broadcast]> = [
  ['postgres NOTIFY', () => pgBroadcast(db, prefix)],
  ['redis pub/sub', () => redisBroadcast(redis, pubsub, prefix)],
];

for (const [kind, make] of broadcastKinds) {
  test(`broadcast [${kind}]: every subscriber hears a message; other deployments do not`, async () => {
    const broadcast = make();
    const heard: string[] = [];
    const stop = await broadcast.subscribe('news', (message) => heard.push(`a:${message}`));
    const stop2 = await broadcast.subscribe('news', (message) => heard.push(`b:${message}`));
    const elsewhere: string[] = [];
    const stop3 = await (kind.startsWith('postgres') ? pgBroadcast(db, `${prefix}x`) : redisBroadcast(redis, pubsub, `${prefix}x`)).subscribe('news', (m) =>
      elsewhere.push(m),
    );
    await broadcast.publish('news', 'hello');
    await eventually('both subscribers to hear it', () => heard.length === 2);
    assert.deepEqual(heard.sort(), ['a:hello', 'b:hello']);
    await assert.rejects(broadcast.publish('news', 'x'.repeat(10_000)), /limited to/);
    for (const s of [stop, stop2, stop3]) await s();
    assert.deepEqual(elsewhere, []);
  });
}

test('memory cache: a delete in one process drops the entry in every process (no stale read after an update)', async () => {
  // Two API processes on one PostgreSQL, each with its own LRU, joined by NOTIFY.
  const otherDb = postgresDatabase(DATABASE_URL);
  closers.push(() => otherDb.close());
  const a = await memoryCache(pgBroadcast(db, prefix));
  const b = await memoryCache(pgBroadcast(otherDb, prefix));
  closers.push(() => a.close(), () => b.close());
  await a.set('product:1', { price: 10 }, 60_000);
  await b.set('product:1', { price: 10 }, 60_000);
  await a.delete('product:1');
  assert.equal(await a.get('product:1'), undefined);
  await eventually('the other process to drop it', async () => (await b.get('product:1')) === undefined);
});

test('memory cache: entries expire after their TTL and cannot be mutated by a reader', async () => {
  const cache = await memoryCache(pgBroadcast(db, prefix));
  closers.push(() => cache.close());
  await cache.set('k', { n: 1 }, 100);
  const read = await cache.get<{ n: number }>('k');
  read!.n = 2;
  assert.deepEqual(await cache.get('k'), { n: 1 });
  await eventually('the entry to expire', async () => (await cache.get('k')) === undefined);
});

test('redis cache: JSON values with a TTL, shared by every client', async () => {
  const cache = redisCache(redis, prefix);
  await cache.set('k', { n: 1, s: 'é' }, 60_000);
  assert.deepEqual(await redisCache(connectRedisOnce(), prefix).get('k'), { n: 1, s: 'é' });
  assert.ok((await redis.pttl(`${prefix}:cache:k`)) > 50_000);
  await cache.delete('k');
  assert.equal(await cache.get('k'), undefined);
});

function connectRedisOnce(): RedisClient {
  const client = connectRedis(parseRedisUrl(REDIS_URL));
  closers.push(async () => client.disconnect());
  return client;
}
