import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PARTITIONS } from '../../src/events/redis-keys.js';
import type { TaskyardOptions } from '../../src/taskyard.js';
import {
  cancelRunningCase,
  computePiCase,
  retriedUntilSuccessCase,
  sseResumeCase,
  websocketTwoJobsCase,
} from '../behaviour/core-cases.js';
import { scanKeys, startRedisCluster, type RedisCluster } from '../helpers/redis-servers.js';
import { dropSchemas, isolatedStorage, startTaskyard, type StartedTaskyard } from '../helpers/taskyard.js';

/**
 * The behavioural suite's core cases on a real 3-master Redis Cluster: BullMQ's
 * queue keys share one slot (`{prefix}`), each event-log partition has its own
 * (`{prefix:pN}`), so one Lua append never crosses slots while the partitions
 * spread over the nodes. History stays in PostgreSQL.
 */
describe('Taskyard on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster | undefined;
  let storage: Partial<TaskyardOptions> = {};
  let ty!: StartedTaskyard;

  before(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    // The default prefix: the cluster is this test's own, and with fixed slots where keys land is fixed too.
    storage = { ...isolatedStorage('redis'), redisUrl: cluster.url, redisPrefix: 'taskyard' };
    ty = await startTaskyard('redis', { ...storage, tasks: ['test/fixtures/tasks.ts'] });
  });
  after(async () => {
    await ty?.stop();
    await dropSchemas(storage);
    await cluster?.stop();
  });

  test('compute-pi: 202, π as the result, each digit once and in order over SSE, exactly the JSON log', () => computePiCase(ty, 200));

  test('a job that fails twice is retried with its backoff and completes on attempt 3', () => retriedUntilSuccessCase(ty));

  test('a running job is cancelled over the cluster: it stops on its signal and ends cancelled', () => cancelRunningCase(ty));

  test('an SSE client that reconnects with Last-Event-ID gets every event exactly once', () => sseResumeCase(ty));

  test('one WebSocket follows two jobs, each seq 1..N once, to its terminal status', () => websocketTwoJobsCase(ty));

  test("the data is spread over the nodes: the queue's keys on one, the event log's partitions over several", async () => {
    const perNode = await Promise.all(cluster!.ports.map((port) => scanKeys(port, '{taskyard*')));
    const summary = perNode.map((keys, i) => `${cluster!.ports[i]}: ${keys.length}`).join(', ');
    assert.ok(perNode.filter((keys) => keys.length > 0).length >= 2, `Taskyard keys on at least 2 of 3 nodes (${summary})`);

    const queueNodes = perNode.filter((keys) => keys.some((key) => key.startsWith('{taskyard}:default:')));
    assert.equal(queueNodes.length, 1, `BullMQ's queue keys live on one node (${summary})`);

    const all = perNode.flat();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      assert.ok(all.includes(`{taskyard:p${partition}}:events`), `partition stream ${partition} exists`);
    }
    const partitionNodes = perNode.filter((keys) => keys.some((key) => /^\{taskyard:p\d+\}:/.test(key)));
    assert.ok(partitionNodes.length >= 2, `the event log's partitions span nodes (${summary})`);
  });
});
