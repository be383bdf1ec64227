import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  BACKENDS,
  getJson,
  postJson,
  waitForTerminal,
  type StartedTaskyard,
  useTaskyard,
} from '../helpers/taskyard.js';

const key = (): string => `key-${randomUUID()}`;

async function jobIdsOf(url: string, task: string): Promise<string[]> {
  const list = await getJson(`${url}/v1/jobs?task=${task}&limit=100`);
  assert.equal(list.status, 200);
  return list.body.jobs.map((job: { id: string }) => job.id);
}

for (const backend of BACKENDS) {
  describe(`idempotency [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    // Each test uses tasks of its own, so the job lists it counts are its own.

    test('the same key twice: 202 then 200 with the same job, and only one job exists', async () => {
      const headers = { 'idempotency-key': key() };
      const first = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10, steps: 1 } }, headers);
      assert.equal(first.status, 202);
      const second = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10, steps: 1 } }, headers);
      assert.equal(second.status, 200);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.body.task, 'sleep');

      assert.deepEqual(await jobIdsOf(ty.url, 'sleep'), [first.body.id]);
      const done = await waitForTerminal(ty.url, first.body.id);
      assert.equal(done.status, 'completed');

      // After the job finished, the key still answers with it (and runs nothing new).
      const third = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10, steps: 1 } }, headers);
      assert.equal(third.status, 200);
      assert.equal(third.body.id, first.body.id);
      assert.equal(third.body.status, 'completed');
      assert.deepEqual(await jobIdsOf(ty.url, 'sleep'), [first.body.id]);
    });

    test('10 concurrent requests with one key: one 202, nine 200, one job', async () => {
      const headers = { 'idempotency-key': key() };
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => postJson(`${ty.url}/v1/tasks/whoami/jobs`, { input: {} }, headers)),
      );
      assert.deepEqual(
        answers.map((a) => a.status).sort(),
        [200, 200, 200, 200, 200, 200, 200, 200, 200, 202],
      );
      const ids = new Set(answers.map((a) => a.body.id));
      assert.equal(ids.size, 1, 'every answer names the same job');
      const [id] = ids;
      assert.deepEqual(await jobIdsOf(ty.url, 'whoami'), [id]);
      const done = await waitForTerminal(ty.url, id!);
      assert.equal(done.status, 'completed');
      const events = await getJson(`${ty.url}/v1/jobs/${id}/events`);
      assert.equal(
        events.body.filter((e: { type: string; data: any }) => e.type === 'status' && e.data.status === 'active').length,
        1,
        'the job ran once',
      );
    });

    test('the same key for another task answers 409 TASKYARD_ERR_IDEMPOTENCY_CONFLICT', async () => {
      const headers = { 'idempotency-key': key() };
      const first = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits: 5 } }, headers);
      assert.equal(first.status, 202);
      const other = await postJson(`${ty.url}/v1/tasks/flaky/jobs`, { input: { succeedOn: 1 } }, headers);
      assert.equal(other.status, 409);
      assert.equal(other.body.error.code, 'TASKYARD_ERR_IDEMPOTENCY_CONFLICT');
      assert.equal(typeof other.body.error.message, 'string');
      assert.deepEqual(await jobIdsOf(ty.url, 'flaky'), [], 'no job of the other task was created');
      assert.deepEqual(await jobIdsOf(ty.url, 'compute-pi'), [first.body.id]);
    });

    test('the same key with another input answers 409; the same input written otherwise answers 200', async () => {
      const headers = { 'idempotency-key': key() };
      const before = await jobIdsOf(ty.url, 'whoami');
      const first = await postJson(`${ty.url}/v1/tasks/whoami/jobs`, { input: { ms: 1 } }, headers);
      assert.equal(first.status, 202);
      const different = await postJson(`${ty.url}/v1/tasks/whoami/jobs`, { input: { ms: 2 } }, headers);
      assert.equal(different.status, 409);
      assert.equal(different.body.error.code, 'TASKYARD_ERR_IDEMPOTENCY_CONFLICT');
      assert.equal(different.body.error.details.jobId, first.body.id);
      const sameButSpaced = await fetch(`${ty.url}/v1/tasks/whoami/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{ "input" : {  "ms" : 1 } }',
      });
      assert.equal(sameButSpaced.status, 200);
      assert.equal(((await sameButSpaced.json()) as { id: string }).id, first.body.id);
      assert.deepEqual(await jobIdsOf(ty.url, 'whoami'), [first.body.id, ...before], 'one job for the key');
    });

    for (const [what, badKey] of [
      ['300 characters', 'k'.repeat(300)],
      ['a space', 'has a space'],
    ] as const) {
      test(`a key with ${what} answers 400 and creates no job`, async () => {
        const refused = await postJson(`${ty.url}/v1/tasks/doomed/jobs`, { input: {} }, { 'idempotency-key': badKey });
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error.code, 'TASKYARD_ERR_VALIDATION');
        assert.ok(
          refused.body.error.details.some((d: { path: string }) => d.path === 'Idempotency-Key'),
          JSON.stringify(refused.body.error.details),
        );
        assert.deepEqual(await jobIdsOf(ty.url, 'doomed'), []);
      });
    }
  });
}
