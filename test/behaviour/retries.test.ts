import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BACKENDS,
  getJson,
  postJson,
  readSse,
  type StartedTaskyard,
  useTaskyard,
} from '../helpers/taskyard.js';

type SseEvent = Awaited<ReturnType<typeof readSse>>[number];

/** A compact picture of a log: `status:active#1`, `error:CODE`, `result`, `status:retrying#1`. */
function outline(events: SseEvent[]): string[] {
  return events.map((e) => {
    if (e.event === 'status') return `status:${e.data.status}${e.data.attempt === undefined ? '' : `#${e.data.attempt}`}`;
    if (e.event === 'job-error') return `error:${e.data.code}`;
    return e.event;
  });
}

/** Enqueues a job and reads its whole SSE log (until its terminal status). */
async function run(url: string, task: string, body: unknown): Promise<{ id: string; events: SseEvent[] }> {
  const accepted = await postJson(`${url}/v1/tasks/${task}/jobs`, body);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  const events = await readSse(`${url}${accepted.body.links.events}`);
  assert.deepEqual(
    events.map((e) => e.id),
    events.map((_, i) => i + 1),
    'seqs start at 1 with no gap',
  );
  return { id: accepted.body.id, events };
}

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

    test('a job that fails twice then succeeds is retried with its backoff and completes on attempt 3', async () => {
      const { id, events } = await run(ty.url, 'flaky', { input: { succeedOn: 3 } });
      assert.deepEqual(outline(events), [
        'status:queued',
        'status:active#1',
        'error:TASKYARD_ERR_TASK_FAILED',
        'status:retrying#1',
        'status:active#2',
        'error:TASKYARD_ERR_TASK_FAILED',
        'status:retrying#2',
        'status:active#3',
        'result',
        'status:completed#3',
      ]);
      const retrying = events.filter((e) => e.event === 'status' && e.data.status === 'retrying');
      assert.deepEqual(
        retrying.map((e) => e.data.delayMs),
        [200, 200],
      );
      const errors = events.filter((e) => e.event === 'job-error');
      assert.deepEqual(
        errors.map((e) => [e.data.attempt, e.data.message]),
        [
          [1, 'failing attempt 1'],
          [2, 'failing attempt 2'],
        ],
      );
      assert.deepEqual(events.find((e) => e.event === 'result')?.data, { attempt: 3 });

      const job = await getJson(`${ty.url}/v1/jobs/${id}`);
      assert.equal(job.body.status, 'completed');
      assert.equal(job.body.attempts, 3);
      assert.equal(job.body.maxAttempts, 3);
      assert.deepEqual(job.body.result, { attempt: 3 });
      assert.equal(job.body.error, undefined, 'a completed job shows no error');
    });

    test('a job that keeps failing ends failed after exactly its 3 attempts', async () => {
      const { id, events } = await run(ty.url, 'flaky', { input: { succeedOn: 5 } });
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
      const { id, events } = await run(ty.url, 'doomed', { input: {} });
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
      const { id, events } = await run(ty.url, 'flaky', { input: { succeedOn: 2 }, attempts: 1 });
      assert.deepEqual(outline(events), ['status:queued', 'status:active#1', 'error:TASKYARD_ERR_TASK_FAILED', 'status:failed#1']);

      const job = await getJson(`${ty.url}/v1/jobs/${id}`);
      assert.equal(job.body.status, 'failed');
      assert.equal(job.body.maxAttempts, 1);
      assert.equal(job.body.error.code, 'TASKYARD_ERR_TASK_FAILED');
      await assertNoLaterAttempt(ty.url, id, events.length, 200);
    });
  });
}
