import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, type StartedTaskyard, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';

const countJobs = async (url: string, task: string): Promise<number> => (await getJson(`${url}/v1/jobs?task=${task}&limit=100`)).body.jobs.length;

for (const backend of BACKENDS) {
  describe(`submitMany [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('many jobs in one call: stored in order, each runs to completion', async () => {
      const submitted = await ty.taskyard.deps.submitMany([
        { task: 'sleep', input: { ms: 1, steps: 1 } },
        { task: 'compute-pi', input: { digits: 5 } },
        { task: 'sleep', input: { ms: 2, steps: 1 }, idempotencyKey: 'bulk-a' },
      ]);
      assert.deepEqual(submitted.map((s) => [s.job.task, s.created]), [['sleep', true], ['compute-pi', true], ['sleep', true]]);
      const results = await Promise.all(submitted.map((s) => waitForTerminal(ty.url, s.job.id)));
      assert.deepEqual(results.map((job) => job.status), ['completed', 'completed', 'completed']);
      assert.equal(results[1].result, '31415');
      // The same key and input again: the same job, not a new one.
      const again = await ty.taskyard.deps.submitMany([{ task: 'sleep', input: { ms: 2, steps: 1 }, idempotencyKey: 'bulk-a' }]);
      assert.deepEqual([again[0]!.job.id, again[0]!.created], [submitted[2]!.job.id, false]);
    });

    test('all or none: one bad input, or one idempotency conflict, and nothing is stored', async () => {
      const before = await countJobs(ty.url, 'whoami');
      await assert.rejects(
        ty.taskyard.deps.submitMany([{ task: 'whoami', input: {} }, { task: 'whoami', input: { ms: 'slow' } }]),
        (error: { code?: string; statusCode?: number }) => error.code === 'TASKYARD_ERR_VALIDATION' && error.statusCode === 400,
      );
      await ty.taskyard.deps.submitMany([{ task: 'whoami', input: {}, idempotencyKey: 'bulk-b' }]);
      await assert.rejects(
        ty.taskyard.deps.submitMany([
          { task: 'whoami', input: { ms: 1 } },
          { task: 'whoami', input: { ms: 2 }, idempotencyKey: 'bulk-b' },
        ]),
        (error: { code?: string }) => error.code === 'TASKYARD_ERR_IDEMPOTENCY_CONFLICT',
      );
      assert.equal(await countJobs(ty.url, 'whoami'), before + 1, 'only the one accepted on its own');
    });
  });
}
