import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postJson, type StartedTaskyard, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';

// Host functions travel the same way on every backend (sandbox thread ↔ main thread): one backend suffices.
describe('ctx.host: functions the worker process hosts for sandboxed tasks', () => {
  let ty!: StartedTaskyard;
  let total = 0;
  const counter = {
    add: async (by: number) => (total += by),
    fail: async () => {
      throw Object.assign(new Error('the counter is broken'), { code: 'COUNTER_BROKEN' });
    },
  };
  useTaskyard('pglite', { hosts: { counter } }, (started) => (ty = started));

  const run = async (input: Record<string, unknown>) => {
    const accepted = await postJson(`${ty.url}/v1/tasks/hosted/jobs`, { input });
    assert.equal(accepted.status, 202);
    return waitForTerminal(ty.url, accepted.body.id);
  };

  test('a task in its sandbox thread calls a function on the main thread and gets its result', async () => {
    assert.deepEqual((await run({ by: 2 })).result, { total: 2 });
    assert.deepEqual((await run({ by: 3 })).result, { total: 5 });
    assert.equal(total, 5);
  });

  test("a host function's error reaches the task with its message and code", async () => {
    const job = await run({ method: 'fail' });
    assert.equal(job.status, 'failed');
    assert.match(job.error.message, /the counter is broken/);
  });

  test('an unknown host or method fails the job with a message that says so', async () => {
    const unknownHost = await run({ host: 'nothing' });
    assert.equal(unknownHost.status, 'failed');
    assert.match(unknownHost.error.message, /hosts no "nothing" functions/);
    const unknownMethod = await run({ method: 'toString' });
    assert.equal(unknownMethod.status, 'failed');
    assert.match(unknownMethod.error.message, /has no function "toString"/);
  });
});
