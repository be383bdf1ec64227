import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, postJson, readSse, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';

for (const backend of BACKENDS) {
  describe(`submit → events → result [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('a job answers 202, streams contiguous events in order, and ends with its result', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 50, steps: 3 } });
      assert.equal(accepted.status, 202);
      assert.equal(accepted.body.status, 'queued');
      assert.equal(accepted.body.task, 'sleep');
      const events = await readSse(`${ty.url}${accepted.body.links.events}`);
      assert.deepEqual(
        events.map((e) => e.id),
        events.map((_, i) => i + 1),
        'seqs start at 1 with no gap',
      );
      const statuses = events.filter((e) => e.event === 'status').map((e) => e.data.status);
      assert.deepEqual(statuses, ['queued', 'active', 'completed']);
      assert.ok(events.some((e) => e.event === 'progress'));
      const result = events.find((e) => e.event === 'result');
      assert.deepEqual(result?.data, { sleptMs: 50, steps: 3 });
    });
  });
}
