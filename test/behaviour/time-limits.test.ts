import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, waitForTerminal, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';

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
    // Limits count from when the task's code starts, so a cold sandbox thread loading its module
    // does not eat into them. `patient` has no hard limit of its own: it gets soft + grace.
    let ty!: StartedTaskyard;
    useTaskyard(backend, { cancelGraceMs: 5000 }, (started) => (ty = started));

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
