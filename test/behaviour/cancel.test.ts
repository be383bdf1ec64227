import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, waitForTerminal, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';
import { assertEndsCancelled, cancelJob, cancelRunningCase, events, isActive, waitForEvent } from './core-cases.js';

for (const backend of BACKENDS) {
  describe(`cancel [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('a running job that listens to its signal stops and ends cancelled', () => cancelRunningCase(ty));

    test('a running job that ignores its signal is killed after the grace period, and the pool recovers', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 60_000, steps: 2, busy: true } });
      assert.equal(accepted.status, 202);
      const id: string = accepted.body.id;
      await waitForEvent(ty.url, id, 'active status', isActive);

      const cancel = await cancelJob(ty.url, id);
      assert.equal(cancel.status, 202);
      const error = await assertEndsCancelled(ty.url, id);
      assert.match(error.message, /killed/);

      const next = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 20, steps: 2 } });
      assert.equal(next.status, 202);
      const done = await waitForTerminal(ty.url, next.body.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.result, { sleptMs: 20, steps: 2 });
    });

    test('a waiting job is cancelled at once', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10 }, delayMs: 60_000 });
      assert.equal(accepted.status, 202);
      const id: string = accepted.body.id;

      const cancel = await cancelJob(ty.url, id);
      assert.equal(cancel.status, 202);
      assert.equal(cancel.body.status, 'cancelled');
      const job = await getJson(`${ty.url}/v1/jobs/${id}`);
      assert.equal(job.body.status, 'cancelled');
      const log = await events(ty.url, id);
      assert.deepEqual(
        log.map((e) => (e.type === 'status' ? `status:${e.data.status}` : `${e.type}:${e.data.code}`)),
        ['status:queued', 'error:TASKYARD_ERR_CANCELLED', 'status:cancelled'],
      );
    });

    test('cancelling a finished job answers 409 TASKYARD_ERR_JOB_FINISHED', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10, steps: 1 } });
      const id: string = accepted.body.id;
      assert.equal((await waitForTerminal(ty.url, id)).status, 'completed');

      const cancel = await cancelJob(ty.url, id);
      assert.equal(cancel.status, 409);
      assert.equal(cancel.body.error.code, 'TASKYARD_ERR_JOB_FINISHED');
      assert.equal(typeof cancel.body.error.message, 'string');
      assert.equal((await getJson(`${ty.url}/v1/jobs/${id}`)).body.status, 'completed');
    });

    test('cancelling an unknown job answers 404 TASKYARD_ERR_JOB_NOT_FOUND', async () => {
      const cancel = await cancelJob(ty.url, 'no-such-job');
      assert.equal(cancel.status, 404);
      assert.equal(cancel.body.error.code, 'TASKYARD_ERR_JOB_NOT_FOUND');
    });
  });
}
