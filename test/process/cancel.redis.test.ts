import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllCli, spawnCli, waitForJob, type CliProcess } from '../helpers/cli-process.js';
import { isolatedStorage, postJson, startTaskyard, type StartedTaskyard } from '../helpers/taskyard.js';

/**
 * The API and the workers are different processes: a cancel travels over Redis
 * pub/sub to whichever worker holds the job.
 */
describe('cancel reaches the worker process that runs the job [redis]', () => {
  const storage = isolatedStorage('redis');
  let api: StartedTaskyard;
  const workers: CliProcess[] = [];

  before(async () => {
    api = await startTaskyard('redis', { role: 'api', ...storage });
    for (let i = 0; i < 2; i++) {
      workers.push(spawnCli(['worker', '--redis', storage.redisUrl!, '--redis-prefix', storage.redisPrefix!, '--concurrency', '2']));
    }
    await Promise.all(workers.map((worker) => worker.waitForOutput(/Taskyard worker \d+ is running/)));
  });
  after(async () => {
    await killAllCli();
    await api?.stop();
  });

  test('a cooperative job stops at once; a job deaf to its signal is killed after the grace period', async () => {
    const jobs = [];
    for (const busy of [false, true, false, true]) {
      const { status, body } = await postJson(`${api.url}/v1/tasks/sleep/jobs`, { input: { ms: 60_000, steps: 600, busy } });
      assert.equal(status, 202);
      jobs.push({ id: body.id as string, busy });
    }
    await Promise.all(jobs.map((job) => waitForJob(api.url, job.id, (j) => j.status === 'active')));
    for (const job of jobs) {
      const { status, body } = await postJson(`${api.url}/v1/jobs/${job.id}/cancel`, {});
      assert.equal(status, 202);
      assert.equal(body.cancelRequested, true);
    }
    const ended = await Promise.all(jobs.map((job) => waitForJob(api.url, job.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.status), 20_000)));
    for (const job of ended) {
      assert.equal(job.status, 'cancelled');
      assert.equal(job.error.code, 'TASKYARD_ERR_CANCELLED');
    }
    // The busy ones did not stop by themselves: the grace period ran out and their threads were terminated.
    assert.match(ended[1].error.message, /did not stop within the grace period/);
  });
});
