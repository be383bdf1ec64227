import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BACKENDS,
  dropSchemas,
  getJson,
  isolatedStorage,
  postJson,
  startTaskyard,
  waitForTerminal,
  type StartedTaskyard,
} from '../helpers/taskyard.js';

/** The statuses and error codes of a job's log, in order. */
async function outline(url: string, id: string): Promise<string[]> {
  const { status, body } = await getJson(`${url}/v1/jobs/${id}/events`);
  assert.equal(status, 200);
  const events = body as Array<{ seq: number; type: string; data: any }>;
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    'seqs start at 1 with no gap',
  );
  return events
    .filter((e) => e.type === 'status' || e.type === 'error')
    .map((e) => (e.type === 'status' ? `status:${e.data.status}` : `error:${e.data.code}`));
}

for (const backend of BACKENDS) {
  describe(`time limits [${backend}]`, () => {
    const storage = isolatedStorage(backend);
    let ty: StartedTaskyard;
    before(async () => {
      // `patient` has no hard limit of its own: it gets soft + grace. The production default grace
      // keeps a cold sandbox thread (slow to load its module on a busy machine) from reaching it first.
      ty = await startTaskyard(backend, { ...storage, tasks: ['test/fixtures/tasks.ts'], cancelGraceMs: 5000 });
      // The limits count from the job's start, sandbox start-up included: warm the pool's threads
      // (two jobs at once) so the tests measure the task, not a cold thread loading its module.
      const warmups = await Promise.all([1, 2].map(() => postJson(`${ty.url}/v1/tasks/whoami/jobs`, { input: { ms: 100 } })));
      for (const warmup of warmups) assert.equal((await waitForTerminal(ty.url, warmup.body.id)).status, 'completed');
    });
    after(async () => {
      await ty.stop();
      await dropSchemas(storage);
    });

    test('a job past its soft limit has its signal aborted and fails with TASKYARD_ERR_SOFT_TIMEOUT', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/patient/jobs`, {});
      assert.equal(accepted.status, 202);
      const job = await waitForTerminal(ty.url, accepted.body.id);
      assert.equal(job.status, 'failed');
      assert.equal(job.error?.code, 'TASKYARD_ERR_SOFT_TIMEOUT');
      assert.equal(typeof job.error?.message, 'string');
      assert.deepEqual(await outline(ty.url, job.id), ['status:queued', 'status:active', 'error:TASKYARD_ERR_SOFT_TIMEOUT', 'status:failed']);
    });

    test('a job deaf to its signal is killed at its hard limit and fails with TASKYARD_ERR_HARD_TIMEOUT', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/stubborn/jobs`, {});
      assert.equal(accepted.status, 202);
      const job = await waitForTerminal(ty.url, accepted.body.id);
      assert.equal(job.status, 'failed');
      assert.equal(job.error?.code, 'TASKYARD_ERR_HARD_TIMEOUT');
      assert.deepEqual(await outline(ty.url, job.id), ['status:queued', 'status:active', 'error:TASKYARD_ERR_HARD_TIMEOUT', 'status:failed']);
    });

    test('after both time limits, the worker pool still runs jobs', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10 } });
      assert.equal(accepted.status, 202);
      const job = await waitForTerminal(ty.url, accepted.body.id);
      assert.equal(job.status, 'completed');
      assert.deepEqual(job.result, { sleptMs: 10, steps: 10 });
    });
  });
}
