import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, waitForTerminal, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';

for (const backend of BACKENDS) {
  describe(`task outputs that cannot be stored [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('a partial with a NUL character fails the job with a message naming ctx.partial, and the log stays usable', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/unstorable/jobs`, { input: { where: 'partial' } });
      const job = await waitForTerminal(ty.url, accepted.body.id);
      assert.equal(job.status, 'failed');
      assert.match(job.error.message, /ctx\.partial/);
      const { body: events } = await getJson(`${ty.url}/v1/jobs/${job.id}/events`);
      assert.deepEqual(
        events.map((e: { seq: number }) => e.seq),
        events.map((_: unknown, i: number) => i + 1),
      );
    });

    test('a result with a NUL character fails at once (PermanentError), without a useless retry', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/unstorable/jobs`, { input: { where: 'result' } });
      const job = await waitForTerminal(ty.url, accepted.body.id);
      assert.equal(job.status, 'failed');
      assert.equal(job.error.code, 'TASKYARD_ERR_PERMANENT');
      assert.equal(job.attempts, 1);
      assert.match(job.error.message, /result/i);
    });
  });
}
