import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';
import { outline, retriedUntilSuccessCase, runToEnd, type SseEvent } from './core-cases.js';

/** No attempt follows the terminal status: the log is unchanged after longer than the task's backoff. */
async function assertNoLaterAttempt(url: string, id: string, length: number, backoffMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, backoffMs * 3));
  const later = await getJson(`${url}/v1/jobs/${id}/events`);
  assert.equal(later.body.length, length, 'nothing is appended after the terminal status');
  const job = await getJson(`${url}/v1/jobs/${id}`);
  assert.equal(job.body.status, 'failed');
}

const actives = (events: SseEvent[]): SseEvent[] => events.filter((e) => e.event === 'status' && e.data.status === 'active');

for (const backend of BACKENDS) {
  describe(`retries [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('a job that fails twice then succeeds is retried with its backoff and completes on attempt 3', () => retriedUntilSuccessCase(ty));

    test('a job that keeps failing ends failed after exactly its 3 attempts', async () => {
      const { id, events } = await runToEnd(ty.url, 'flaky', { input: { succeedOn: 5 } });
      assert.deepEqual(
        actives(events).map((e) => e.data.attempt),
        [1, 2, 3],
      );
      assert.deepEqual(outline(events).slice(-2), ['error:TASKYARD_ERR_TASK_FAILED', 'status:failed#3']);
      assert.ok(!events.some((e) => e.event === 'result'));

      const job = await getJson(`${ty.url}/v1/jobs/${id}`);
      assert.equal(job.body.status, 'failed');
      assert.equal(job.body.attempts, 3);
      assert.equal(job.body.error.code, 'TASKYARD_ERR_TASK_FAILED');
      assert.equal(job.body.error.message, 'failing attempt 3');
      await assertNoLaterAttempt(ty.url, id, events.length, 200);
    });

    test('a PermanentError fails the job at once, with no retry', async () => {
      const { id, events } = await runToEnd(ty.url, 'doomed', { input: {} });
      assert.deepEqual(outline(events), ['status:queued', 'status:active#1', 'error:TASKYARD_ERR_PERMANENT', 'status:failed#1']);

      const job = await getJson(`${ty.url}/v1/jobs/${id}`);
      assert.equal(job.body.status, 'failed');
      assert.equal(job.body.attempts, 1);
      assert.equal(job.body.maxAttempts, 5);
      assert.equal(job.body.error.code, 'TASKYARD_ERR_PERMANENT');
      assert.equal(job.body.error.message, 'this input can never work');
      await assertNoLaterAttempt(ty.url, id, events.length, 100);
    });

    test('attempts: 1 on the request overrides the task and allows no retry', async () => {
      const { id, events } = await runToEnd(ty.url, 'flaky', { input: { succeedOn: 2 }, attempts: 1 });
      assert.deepEqual(outline(events), ['status:queued', 'status:active#1', 'error:TASKYARD_ERR_TASK_FAILED', 'status:failed#1']);

      const job = await getJson(`${ty.url}/v1/jobs/${id}`);
      assert.equal(job.body.status, 'failed');
      assert.equal(job.body.maxAttempts, 1);
      assert.equal(job.body.error.code, 'TASKYARD_ERR_TASK_FAILED');
      await assertNoLaterAttempt(ty.url, id, events.length, 200);
    });
  });
}
