// PostgreSQL goes away and comes back: the API says so with a 503 (never a 500),
// stays alive, and works again once the database is back.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { CuttableProxy } from '../helpers/cuttable-proxy.js';
import { dropSchemas, getJson, isolatedStorage, postJson, startTaskyard, waitForTerminal, type StartedTaskyard } from '../helpers/taskyard.js';

describe('PostgreSQL outage [postgres]', () => {
  const proxy = new CuttableProxy();
  const storage = isolatedStorage('postgres');
  let ty: StartedTaskyard | undefined;
  after(async () => {
    await proxy.open();
    await ty?.stop();
    await proxy.cut();
    await dropSchemas(storage);
  });

  test('503 with a code while the database is away, and jobs run again when it is back', async () => {
    await proxy.open();
    ty = await startTaskyard('postgres', { ...storage, databaseUrl: proxy.url });
    const first = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10, steps: 1 } });
    assert.equal(first.status, 202);
    assert.equal((await waitForTerminal(ty.url, first.body.id)).status, 'completed');

    await proxy.cut();
    const refused = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10, steps: 1 } });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.match(refused.body.error.code, /^TASKYARD_ERR_(NOT_READY|ENQUEUE_FAILED)$/);
    const lookup = await getJson(`${ty.url}/v1/jobs/${first.body.id}`);
    assert.equal(lookup.status, 503, JSON.stringify(lookup.body));
    assert.equal((await getJson(`${ty.url}/ready`)).status, 503);
    assert.equal((await getJson(`${ty.url}/health`)).status, 200, 'the process itself is fine');

    await proxy.open();
    const deadline = Date.now() + 30_000;
    while ((await getJson(`${ty.url}/ready`)).status !== 200) {
      assert.ok(Date.now() < deadline, 'ready again within 30 s of the database coming back');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const again = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10, steps: 1 } });
    assert.equal(again.status, 202);
    assert.equal((await waitForTerminal(ty.url, again.body.id, 60_000)).status, 'completed');
  });
});
