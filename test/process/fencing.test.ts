import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobEvents, killAllCli, spawnCli, waitForJob, type CliProcess } from '../helpers/cli-process.js';
import { isolatedStorage, postJson, startTaskyard, type BackendName, type StartedTaskyard } from '../helpers/taskyard.js';

const TASKS = 'test/fixtures/fencing-tasks.ts';
const LOCK_MS = 1000;

/**
 * A worker stalls (its whole process is stopped, as a long GC pause or a
 * blocked event loop would), loses the job's lock, and another worker re-runs
 * the job. When the first one wakes up, its run goes on emitting: none of that
 * may reach the job's log. The client sees one result, and the partials of the
 * two runs never interleave.
 */
for (const backend of ['redis', 'postgres'] as const satisfies readonly BackendName[]) {
  describe(`fencing a stalled worker [${backend}]`, () => {
    const storage = isolatedStorage(backend);
    let api: StartedTaskyard;
    const workers: CliProcess[] = [];
    const workerArgs =
      backend === 'redis'
        ? ['--redis', storage.redisUrl!, '--redis-prefix', storage.redisPrefix!]
        : ['--database', storage.databaseUrl!, '--history-schema', storage.historySchema!, '--engine-schema', storage.engineSchema!];
    const startWorker = async (): Promise<CliProcess> => {
      const worker = spawnCli(['worker', ...workerArgs, '--tasks', TASKS, '--no-builtins', '--concurrency', '1', '--lock-duration', String(LOCK_MS)]);
      workers.push(worker);
      await worker.waitForOutput(/Taskyard worker \d+ is running/);
      return worker;
    };

    before(async () => {
      api = await startTaskyard(backend, { role: 'api', ...storage, tasks: [TASKS], builtins: false });
    });
    after(async () => {
      for (const worker of workers) worker.signal('SIGCONT');
      await killAllCli();
      await api?.stop();
    });

    test('the stalled run is fenced off: one result, from the new run, and no interleaved partials', async () => {
      const first = await startWorker();
      const { status, body: job } = await postJson(`${api.url}/v1/tasks/steady/jobs`, { input: { steps: 40, everyMs: 100 } });
      assert.equal(status, 202);
      // Let the first run get going, then stop its process long enough for its lock to lapse.
      await waitForJob(api.url, job.id, (j) => j.status === 'active');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await startWorker();
      first.signal('SIGSTOP');
      await waitForJob(api.url, job.id, (j) => j.attempts === 2, 30_000);
      // The first run wakes up mid-job and keeps emitting (it ignores its signal).
      first.signal('SIGCONT');

      const done = await waitForJob(api.url, job.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.status), 30_000);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.result, { attempt: 2, fencingToken: 2 });
      assert.equal(done.attempts, 2);

      const events = await jobEvents(api.url, job.id);
      assert.deepEqual(
        events.map((e) => e.seq),
        events.map((_, i) => i + 1),
        'gap-free seqs',
      );
      assert.equal(events.filter((e) => e.type === 'result').length, 1, 'exactly one result');
      const secondRunStarts = events.findIndex((e) => e.type === 'status' && e.data.status === 'active' && e.data.attempt === 2);
      assert.ok(secondRunStarts > 0, 'the second run began');
      const partials = events.map((e, i) => ({ ...e, i })).filter((e) => e.type === 'partial');
      for (const partial of partials) {
        assert.equal(partial.data.attempt, partial.i < secondRunStarts ? 1 : 2, `partial ${partial.seq} belongs to the run around it`);
      }
      const secondRun = partials.filter((p) => p.i > secondRunStarts).map((p) => p.data.i);
      assert.deepEqual(secondRun, Array.from({ length: 40 }, (_, i) => i + 1), 'the new run emitted all its partials, once each');
      const statuses = events.filter((e) => e.type === 'status').map((e) => `${e.data.status}${e.data.attempt ? `#${e.data.attempt}` : ''}`);
      assert.deepEqual(statuses, ['queued', 'active#1', 'active#2', 'completed#2']);
    });
  });
}
