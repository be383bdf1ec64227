import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, useTaskyard, type StartedTaskyard } from '../helpers/taskyard.js';

for (const backend of BACKENDS) {
  describe(`admission control [${backend}]`, () => {
    // No worker: jobs stay waiting, so the queue fills up.
    let ty!: StartedTaskyard;
    useTaskyard(backend, { role: 'api', maxWaiting: 5 }, (started) => (ty = started));

    test('past maxWaiting waiting jobs, enqueue answers 429 with Retry-After, and stores nothing', async () => {
      for (let i = 0; i < 5; i++) {
        const { status } = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 1 } });
        assert.equal(status, 202);
      }
      const res = await fetch(`${ty.url}/v1/tasks/sleep/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'refused-once' },
        body: JSON.stringify({ input: { ms: 1 } }),
      });
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After says when to come back');
      const body = (await res.json()) as { error: { code: string; message: string; details: { queue: string; maxWaiting: number } } };
      assert.equal(body.error.code, 'TASKYARD_ERR_QUEUE_FULL');
      assert.deepEqual(body.error.details, { queue: 'default', maxWaiting: 5 });

      const { body: list } = await getJson(`${ty.url}/v1/jobs?task=sleep&limit=100`);
      assert.equal(list.jobs.length, 5, 'the refused job left no trace in history');
      // Its idempotency key was not taken either: a later retry is a new request.
      const again = await fetch(`${ty.url}/v1/tasks/sleep/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'refused-once' },
        body: JSON.stringify({ input: { ms: 1 } }),
      });
      assert.equal(again.status, 429);
    });
  });
}
