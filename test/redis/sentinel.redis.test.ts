import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TaskyardOptions } from '../../src/taskyard.js';
import { cancelRunningCase, computePiCase } from '../behaviour/core-cases.js';
import { scanKeys, startRedisSentinel, startRedisServer, type RedisSentinel, type RedisServer } from '../helpers/redis-servers.js';
import { dropSchemas, isolatedStorage, startTaskyard, type StartedTaskyard } from '../helpers/taskyard.js';

/**
 * Taskyard finds its Redis through a real Sentinel (`redis+sentinel://`): the
 * queue, the event log and pub/sub all reach the master the Sentinel names.
 */
describe('Taskyard behind a Redis Sentinel', () => {
  let master: RedisServer | undefined;
  let sentinel: RedisSentinel | undefined;
  let storage: Partial<TaskyardOptions> = {};
  let ty!: StartedTaskyard;

  before(async () => {
    master = await startRedisServer();
    sentinel = await startRedisSentinel(master.port);
    storage = { ...isolatedStorage('redis'), redisUrl: sentinel.url };
    ty = await startTaskyard('redis', { ...storage, tasks: ['test/fixtures/tasks.ts'] });
  });
  after(async () => {
    await ty?.stop();
    await dropSchemas(storage);
    await sentinel?.stop();
    await master?.stop();
  });

  test('a job runs to completion, streaming each digit once over SSE', () => computePiCase(ty, 50));

  test('a cancel reaches the running job (pub/sub through the Sentinel-found master)', () => cancelRunningCase(ty));

  test('the job data is on the master the Sentinel names', async () => {
    const keys = await scanKeys(master!.port, `{${storage.redisPrefix}*`);
    assert.ok(keys.some((key) => key.endsWith(':events')), `the event log is on the master (${keys.length} keys)`);
    assert.ok(keys.some((key) => key.startsWith(`{${storage.redisPrefix}}:default:`)), "BullMQ's queue is on the master");
  });
});
