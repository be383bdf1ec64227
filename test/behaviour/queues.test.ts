import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, type StartedTaskyard, until, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';

for (const backend of BACKENDS) {
  describe(`queues [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    const queue = async (name: string) => (await getJson(`${ty.url}/v1/queues`)).body.queues.find((q: { name: string }) => q.name === name);

    test('a paused queue keeps its new jobs waiting; resumed, they run; counts follow', async () => {
      const paused = await postJson(`${ty.url}/v1/queues/default/pause`, {});
      assert.equal(paused.status, 200);
      assert.deepEqual(paused.body, { name: 'default', paused: true });
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 1, steps: 1 } });
      await sleep(1000);
      assert.equal((await getJson(`${ty.url}/v1/jobs/${accepted.body.id}`)).body.status, 'queued');
      const whilePaused = await queue('default');
      assert.equal(whilePaused.paused, true);
      assert.ok(whilePaused.waiting >= 1, JSON.stringify(whilePaused));

      const resumed = await postJson(`${ty.url}/v1/queues/default/resume`, {});
      assert.deepEqual(resumed.body, { name: 'default', paused: false });
      assert.equal((await waitForTerminal(ty.url, accepted.body.id)).status, 'completed');
      // Counts of finished jobs come from history: on Redis it is written a moment later by the projector.
      const after = await until('the completed count', async () => {
        const state = await queue('default');
        return state.completed >= 1 ? state : undefined;
      }, 10_000).catch(() => queue('default'));
      assert.equal(after.paused, false);
      assert.ok(after.completed >= 1, JSON.stringify(after));
      for (const key of ['waiting', 'active', 'delayed', 'completed', 'failed', 'cancelled']) assert.equal(typeof after[key], 'number', key);
    });

    test('an unknown queue is a 404', async () => {
      const res = await postJson(`${ty.url}/v1/queues/nope/pause`, {});
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'TASKYARD_ERR_NOT_FOUND');
    });
  });
}
