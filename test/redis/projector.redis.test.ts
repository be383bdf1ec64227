import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import { parseRedisUrl } from '../../src/engine/redis-connection.js';
import { RedisEventLog } from '../../src/events/redis-event-log.js';
import { PARTITIONS, RedisKeys, partitionOf } from '../../src/events/redis-keys.js';
import { RedisProjector } from '../../src/events/redis-projector.js';
import { RedisPubSub } from '../../src/events/redis-pubsub.js';
import { FencedError } from '../../src/errors.js';
import { postgresDatabase, type Database } from '../../src/history/database.js';
import { JobStore } from '../../src/history/jobs.js';
import { migrate } from '../../src/history/migrate.js';
import { createLogger } from '../../src/logger.js';
import { dropSchemas, isolatedStorage } from '../helpers/taskyard.js';

const storage = isolatedStorage('redis');
const target = parseRedisUrl(storage.redisUrl!);
const keys = new RedisKeys(storage.redisPrefix!);

async function until(predicate: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the Redis event log and its projector into history', () => {
  let db: Database;
  let store: JobStore;
  let redis: Redis;
  let pubsub: RedisPubSub;
  let log: RedisEventLog;
  const projectors: RedisProjector[] = [];

  const newJob = async (): Promise<string> => {
    const id = uuidv7();
    await store.insert({ id, task: 't', queue: 'default', input: {}, priority: 0, maxAttempts: 1 });
    return id;
  };

  before(async () => {
    db = postgresDatabase(storage.databaseUrl!);
    await migrate(db, storage.historySchema!);
    store = new JobStore(db, storage.historySchema!);
    redis = new Redis(storage.redisUrl!);
    pubsub = new RedisPubSub(target);
    log = new RedisEventLog(redis, keys, pubsub, store);
  });
  after(async () => {
    await Promise.all(projectors.map((p) => p.stop()));
    await pubsub.close();
    redis.disconnect();
    await db.close();
    await dropSchemas(storage);
  });

  test('seqs follow the queued event history wrote; a stale fence is refused; replays merge history and stream', async () => {
    const id = await newJob();
    const fence = await log.beginAttempt(id);
    assert.equal(fence, 1);
    const [progress] = await log.append(id, [{ type: 'progress', data: { percent: 50 } }], fence);
    assert.equal(progress?.seq, 3, 'seq 1 is queued (history), 2 is active (begin)');
    assert.equal(await log.beginAttempt(id), 2, 'a new run takes the next fence');
    await assert.rejects(log.append(id, [{ type: 'partial', data: 'late' }], fence), FencedError);
    // Nothing projected yet: the replay takes seq 1 from history and the rest from the job's stream.
    const replay = await log.read(id, 0);
    assert.deepEqual(
      replay.map((e) => [e.seq, e.type]),
      [
        [1, 'status'],
        [2, 'status'],
        [3, 'progress'],
        [4, 'status'],
      ],
    );
  });

  test('history is idempotent on (job, seq) and advances only over gap-free events, whatever the commit order', async () => {
    const id = await newJob();
    const at = new Date().toISOString();
    const ev = (seq: number, type: 'status' | 'partial' | 'result', data: unknown) => ({ jobId: id, seq, type, data, at });
    // A second projector committed 3 and 4 before the first committed 2.
    assert.equal(await store.project([ev(3, 'result', { ok: true }), ev(4, 'status', { status: 'completed', attempt: 1 })]), 2);
    let job = await store.get(id);
    assert.equal(job?.status, 'queued', 'seq 2 is missing: the row waits');
    assert.equal(job?.lastSeq, 1);
    assert.equal(await store.project([ev(2, 'status', { status: 'active', attempt: 1 })]), 1);
    job = await store.get(id);
    assert.equal(job?.status, 'completed');
    assert.equal(job?.lastSeq, 4);
    assert.deepEqual(job?.result, { ok: true });
    // The same entries delivered again (a consumer crashed before XACK) change nothing.
    assert.equal(await store.project([ev(2, 'status', { status: 'active', attempt: 1 }), ev(3, 'result', { ok: 'other' })]), 0);
    const events = await store.events(id, 0);
    assert.deepEqual(
      events.map((e) => e.seq),
      [1, 2, 3, 4],
    );
    assert.deepEqual((await store.get(id))?.result, { ok: true });
  });

  test('two projectors writing the same jobs at once never deadlock, and every row reaches the end of its run', async () => {
    // What two API instances do when a consumer group hands a job's entries to either, and one claims the other's.
    const ids = await Promise.all(Array.from({ length: 12 }, () => newJob()));
    const at = new Date().toISOString();
    const partial = (jobId: string, seq: number) => ({ jobId, seq, type: 'partial' as const, data: { seq }, at });
    const SEQS = 40;
    for (let round = 0; round < SEQS / 4; round++) {
      const base = 2 + round * 4;
      // One write has every job's first two seqs of the round, the other the next two (in another job order),
      // and each also repeats one seq of the other: entries projected twice.
      const first = ids.flatMap((id) => [partial(id, base), partial(id, base + 1), partial(id, base + 2)]);
      const second = [...ids].reverse().flatMap((id) => [partial(id, base + 3), partial(id, base + 2), partial(id, base + 1)]);
      await Promise.all([store.project(first), store.project(second)]);
    }
    const jobs = await Promise.all(ids.map((id) => store.get(id)));
    assert.deepEqual(
      jobs.map((job) => job?.lastSeq),
      ids.map(() => SEQS + 1),
    );
  });

  test('a replay fills the holes of history from the stream: no gap while one projector is behind another', async () => {
    const id = await newJob();
    const fence = await log.beginAttempt(id);
    const partials = await log.append(id, [1, 2, 3].map((i) => ({ type: 'partial' as const, data: { i } })), fence);
    // One instance committed seqs 2, 3 and 5; seq 4 is still with another (in flight, or dead and not yet claimed).
    const [active] = await log.read(id, 1, 1);
    await store.project([active!, partials[0]!, partials[2]!]);
    assert.deepEqual(
      (await store.events(id, 0)).map((e) => e.seq),
      [1, 2, 3, 5],
    );
    assert.deepEqual(
      (await log.read(id, 0)).map((e) => [e.seq, e.type, e.data]),
      [
        [1, 'status', { status: 'queued' }],
        [2, 'status', { status: 'active', attempt: 1 }],
        [3, 'partial', { i: 1 }],
        [4, 'partial', { i: 2 }],
        [5, 'partial', { i: 3 }],
      ],
    );
    assert.deepEqual(
      (await log.read(id, 0, 2)).map((e) => e.seq),
      [1, 2],
      'the limit holds',
    );
  });

  test('a projector that stops projects the entries its last read took, rather than leave them to be claimed', async () => {
    const id = await newJob();
    const stream = keys.partitionStream(partitionOf(id));
    for (let p = 0; p < PARTITIONS; p++) {
      await redis.xgroup('CREATE', keys.partitionStream(p), 'projector', '0', 'MKSTREAM').catch(() => undefined);
    }
    const fence = await log.beginAttempt(id);
    await log.append(id, [{ type: 'result', data: 7 }, { type: 'status', data: { status: 'completed', attempt: fence } }], fence);
    const projector = new RedisProjector({ target, client: redis, keys, store, logger: createLogger('silent') });
    // Its blocked read was answered as it was told to stop: the entries are its own, pending.
    await redis.xreadgroup('GROUP', 'projector', projector.consumer, 'COUNT', 100, 'STREAMS', stream, '>');
    await projector.stop();
    const job = await store.get(id);
    assert.equal(job?.status, 'completed');
    assert.equal(job?.result, 7);
    assert.equal(((await redis.xpending(stream, 'projector')) as [number])[0], 0, 'nothing left to claim');
  });

  test("a live instance claims and projects the entries a dead consumer read but never acknowledged", async () => {
    const id = await newJob();
    const stream = keys.partitionStream(partitionOf(id));
    for (let p = 0; p < PARTITIONS; p++) {
      await redis.xgroup('CREATE', keys.partitionStream(p), 'projector', '0', 'MKSTREAM').catch(() => undefined);
    }
    const fence = await log.beginAttempt(id);
    await log.append(id, [{ type: 'partial', data: { n: 1 } }, { type: 'result', data: 42 }, { type: 'status', data: { status: 'completed', attempt: fence } }], fence);
    // A consumer that reads the entries, then dies before writing them to history.
    const taken = (await redis.xreadgroup('GROUP', 'projector', 'dead-instance', 'COUNT', 100, 'STREAMS', stream, '>')) as Array<[string, unknown[]]>;
    assert.ok((taken[0]?.[1].length ?? 0) >= 4);

    const projector = new RedisProjector({ target, client: redis, keys, store, logger: createLogger('silent'), claimIdleMs: 300 });
    projectors.push(projector);
    // The metric's event-log lag: what history does not have yet, read and unacknowledged included.
    assert.ok((await projector.lag()) >= 4, `lag ${await projector.lag()}`);
    await projector.start();
    await until(async () => (await store.get(id))?.status === 'completed', 'the claimed entries to reach history');
    await until(async () => (await projector.lag()) === 0, 'the lag to fall to 0');
    const job = await store.get(id);
    assert.equal(job?.result, 42);
    assert.deepEqual(
      (await store.events(id, 0)).map((e) => e.type),
      ['status', 'status', 'partial', 'result', 'status'],
    );
    await until(async () => ((await redis.xpending(stream, 'projector')) as [number])[0] === 0, 'every entry to be acknowledged');

    // The job's own stream trimmed to its last event: a replay from the start still has everything, from history.
    await redis.xtrim(keys.jobLog(id), 'MAXLEN', 1);
    assert.deepEqual(
      (await log.read(id, 0)).map((e) => e.seq),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      (await log.read(id, 2)).map((e) => e.type),
      ['partial', 'result', 'status'],
    );
  });

  test('new events flow through the running projector; acknowledged entries are trimmed from the partition stream', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => newJob()));
    for (const id of ids) {
      const fence = await log.beginAttempt(id);
      await log.append(id, [{ type: 'result', data: id }, { type: 'status', data: { status: 'completed', attempt: fence } }], fence);
    }
    await until(async () => {
      const jobs = await Promise.all(ids.map((id) => store.get(id)));
      return jobs.every((job) => job?.status === 'completed');
    }, 'all jobs to be projected');
    // 60 entries went through; each partition keeps at most its last acknowledged entry.
    await until(async () => {
      let total = 0;
      for (let p = 0; p < PARTITIONS; p++) total += await redis.xlen(keys.partitionStream(p));
      return total <= PARTITIONS;
    }, 'the partition streams to be trimmed');
  });
  test('entries trimmed from Redis while still pending on a projector are dropped, and it goes on projecting', async () => {
    // Alone: another live projector would claim the stuck entries and hide the fault.
    await Promise.all(projectors.splice(0).map((p) => p.stop()));
    const lost = await newJob();
    const stream = keys.partitionStream(partitionOf(lost));
    for (let p = 0; p < PARTITIONS; p++) {
      await redis.xgroup('CREATE', keys.partitionStream(p), 'projector', '0', 'MKSTREAM').catch(() => undefined);
    }
    const fence = await log.beginAttempt(lost);
    await log.append(lost, [{ type: 'result', data: 1 }, { type: 'status', data: { status: 'completed', attempt: fence } }], fence);
    const projector = new RedisProjector({ target, client: redis, keys, store, logger: createLogger('info') });
    projectors.push(projector);
    // Its last read took the entries, then (history away, the backlog past its cap) they were trimmed.
    await redis.xreadgroup('GROUP', 'projector', projector.consumer, 'COUNT', 100, 'STREAMS', stream, '>');
    await redis.xtrim(stream, 'MAXLEN', 0);
    await projector.start();

    // A job on the same partition, after the hole: it reaches history.
    let next = await newJob();
    while (partitionOf(next) !== partitionOf(lost)) next = await newJob();
    const nextFence = await log.beginAttempt(next);
    await log.append(next, [{ type: 'result', data: 2 }, { type: 'status', data: { status: 'completed', attempt: nextFence } }], nextFence);
    await until(async () => (await store.get(next))?.status === 'completed', 'the next job to reach history');
    await until(async () => ((await redis.xpending(stream, 'projector')) as [number])[0] === 0, 'the trimmed entries to leave the pending list');
  });
});
