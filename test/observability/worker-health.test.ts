// A worker's health endpoint (--metrics-port) tells the truth: when its
// connection to the queue engine dies silently (no reset, no error: the bytes
// stop), /health turns 503 within seconds, and 200 again once it is back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CuttableProxy } from '../helpers/cuttable-proxy.js';
import { isolatedStorage, postJson, REDIS_URL, startTaskyard, type StartedTaskyard, until, waitForTerminal } from '../helpers/taskyard.js';

const health = async (url: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${url}/health`);
  return { status: res.status, body: await res.json() };
};

describe('worker health on a silently dead connection [redis]', () => {
  const proxy = new CuttableProxy(REDIS_URL);
  const storage = isolatedStorage('redis');
  let api!: StartedTaskyard;
  let worker!: StartedTaskyard;
  before(async () => {
    await proxy.open();
    api = await startTaskyard('redis', { ...storage, role: 'api', tasks: ['test/fixtures/tasks.ts'] });
    // The worker reaches Redis through the proxy; the API does not.
    worker = await startTaskyard('redis', { ...storage, redisUrl: proxy.url, role: 'worker', tasks: ['test/fixtures/tasks.ts'], metricsPort: 0 });
  });
  after(async () => {
    proxy.thaw();
    await worker?.stop();
    await api?.stop();
    await proxy.cut();
  });

  test('healthy while it takes work; 503 with the reason once its bytes stop; healthy again, and working, after', { timeout: 60_000 }, async () => {
    const url = worker.taskyard.metricsUrl!;
    assert.deepEqual(await health(url), { status: 200, body: { status: 'ok' } });
    const first = await postJson(`${api.url}/v1/tasks/echo/jobs`, { input: { text: 'before' } });
    assert.equal((await waitForTerminal(api.url, first.body.id)).status, 'completed');

    proxy.freeze();
    const down = await until('the worker to report itself unhealthy', async () => {
      const res = await health(url);
      return res.status === 503 ? res : undefined;
    }, 15_000);
    assert.equal(down.body.error.code, 'TASKYARD_ERR_NOT_READY');
    assert.match(down.body.error.message, /did not answer|Connection|closed|stream/i);
    // The process itself is up: it answered, quickly.
    const t0 = Date.now();
    await health(url);
    assert.ok(Date.now() - t0 < 5000);

    proxy.thaw();
    await until('the worker to recover', async () => ((await health(url)).status === 200 ? true : undefined), 30_000);
    const second = await postJson(`${api.url}/v1/tasks/echo/jobs`, { input: { text: 'after' } });
    assert.equal((await waitForTerminal(api.url, second.body.id, 30_000)).status, 'completed');
  });
});
