import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeTempDir } from '../helpers/cli-process.js';
import { BACKENDS, dropSchemas, getJson, isolatedStorage, startTaskyard } from '../helpers/taskyard.js';

async function scheduledJobs(url: string): Promise<Array<{ id: string; status: string; input: unknown }>> {
  return (await getJson(`${url}/v1/jobs?task=sleep&limit=100`)).body.jobs;
}

for (const backend of BACKENDS) {
  describe(`schedules [${backend}]`, () => {
    test('a schedule submits its job every period through BullMQ; undeclared, it stops', async () => {
      // On PGlite, a data dir on disk: the second start must find what the first left.
      const tmp = backend === 'pglite' ? await makeTempDir() : undefined;
      const storage = tmp ? { dataDir: tmp.dir } : isolatedStorage(backend);
      const schedule = { id: 'heartbeat', task: 'sleep', input: { ms: 1, steps: 1 }, everyMs: 1000 };
      const first = await startTaskyard(backend, { ...storage, schedules: [schedule] });
      let stopped = false;
      try {
        const deadline = Date.now() + 15_000;
        let jobs = await scheduledJobs(first.url);
        while (jobs.filter((job) => job.status === 'completed').length < 2) {
          assert.ok(Date.now() < deadline, `only ${jobs.length} scheduled jobs after 15 s`);
          await new Promise((resolve) => setTimeout(resolve, 200));
          jobs = await scheduledJobs(first.url);
        }
        assert.equal(new Set(jobs.map((job) => job.id)).size, jobs.length);
        for (const job of jobs) assert.deepEqual(job.input, schedule.input);
        await first.taskyard.stop();
        stopped = true;

        // Started again without it: the schedule is removed, no more jobs come.
        const second = await startTaskyard(backend, { ...storage, schedules: [] });
        try {
          const before = (await scheduledJobs(second.url)).length;
          await new Promise((resolve) => setTimeout(resolve, 2500));
          assert.ok((await scheduledJobs(second.url)).length <= before + 1, 'at most a tick already due when it started');
          const settled = (await scheduledJobs(second.url)).length;
          await new Promise((resolve) => setTimeout(resolve, 2000));
          assert.equal((await scheduledJobs(second.url)).length, settled);
        } finally {
          await second.taskyard.stop();
        }
      } finally {
        if (!stopped) await first.taskyard.stop();
        await dropSchemas(storage);
        await tmp?.remove();
      }
    });
  });
}

describe('schedules: bad declarations stop start-up naming the schedule', () => {
  for (const [schedule, message] of [
    [{ id: 's1', task: 'nope', everyMs: 1000 }, /schedule "s1": no task named "nope"/],
    [{ id: 's2', task: 'sleep', input: { ms: 'x' }, everyMs: 1000 }, /schedule "s2": input: ms/],
    [{ id: 's3', task: 'sleep', everyMs: 10 }, /schedule "s3": everyMs/],
    [{ id: 's4', task: 'sleep' }, /exactly one of everyMs and cron/],
  ] as const) {
    test(String(message), async () => {
      await assert.rejects(startTaskyard('pglite', { schedules: [schedule as never] }), message);
    });
  }
});
