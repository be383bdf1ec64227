import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobEvents, killAllCli, spawnCli, waitForExit, type CliProcess } from '../helpers/cli-process.js';
import { dropSchemas, getJson, isolatedStorage, postJson, startTaskyard, type StartedTaskyard } from '../helpers/taskyard.js';

const TASKS = 'test/fixtures/tasks.ts';
const JOBS = 200;

/** Every job of a task, newest first, through the API's keyset pages. */
async function listJobs(url: string, task: string): Promise<any[]> {
  const jobs: any[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `task=${task}&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const { status, body } = await getJson(`${url}/v1/jobs?${query}`);
    assert.equal(status, 200);
    jobs.push(...body.jobs);
    cursor = body.nextCursor;
  } while (cursor);
  return jobs;
}

describe('two worker processes share one PostgreSQL queue', () => {
  const storage = isolatedStorage('postgres');
  const schemaFlags = ['--history-schema', storage.historySchema!, '--engine-schema', storage.engineSchema!];
  let api: StartedTaskyard;
  const workers: CliProcess[] = [];

  before(async () => {
    // The API creates the schemas; the workers then start on them.
    api = await startTaskyard('postgres', { role: 'api', ...storage, tasks: [TASKS] });
    for (let i = 0; i < 2; i++) {
      workers.push(spawnCli(['worker', '--database', storage.databaseUrl!, '--tasks', TASKS, '--concurrency', '4', ...schemaFlags]));
    }
    await Promise.all(workers.map((worker) => worker.waitForOutput(/Taskyard worker \d+ is running/)));
  });
  after(async () => {
    // Stop the workers the way an operator would; kill whatever does not stop.
    for (const worker of workers) worker.signal('SIGTERM');
    await Promise.all(workers.map((worker) => waitForExit(worker, 15_000).catch(() => undefined)));
    await killAllCli();
    await api?.stop();
    await dropSchemas(storage);
  });

  test(`${JOBS} jobs each run exactly once, spread over both workers`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const accepted = await postJson(`${api.url}/v1/tasks/whoami/jobs`, { input: { ms: 5 } });
      assert.equal(accepted.status, 202);
      ids.push(accepted.body.id);
    }

    const deadline = Date.now() + 60_000;
    let jobs: any[];
    for (;;) {
      jobs = await listJobs(api.url, 'whoami');
      if (jobs.every((job) => ['completed', 'failed', 'cancelled'].includes(job.status))) break;
      if (Date.now() > deadline) {
        const counts: Record<string, number> = {};
        for (const job of jobs) counts[job.status] = (counts[job.status] ?? 0) + 1;
        throw new Error(`jobs still unfinished: ${JSON.stringify(counts)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    assert.equal(jobs.length, JOBS);
    assert.deepEqual(new Set(jobs.map((job) => job.id)), new Set(ids));
    assert.deepEqual(
      jobs.filter((job) => job.status !== 'completed').map((job) => ({ id: job.id, status: job.status, error: job.error })),
      [],
      'no job failed',
    );

    const pids = new Map<number, number>();
    for (const id of ids) {
      const events = await jobEvents(api.url, id);
      const actives = events.filter((e) => e.type === 'status' && e.data.status === 'active');
      const results = events.filter((e) => e.type === 'result');
      assert.equal(actives.length, 1, `job ${id} started exactly once`);
      assert.equal(results.length, 1, `job ${id} has exactly one result`);
      assert.deepEqual(
        events.filter((e) => e.type === 'status').map((e) => e.data.status),
        ['queued', 'active', 'completed'],
      );
      const pid = results[0]!.data.pid as number;
      pids.set(pid, (pids.get(pid) ?? 0) + 1);
    }
    assert.deepEqual(
      [...pids.keys()].sort(),
      workers.map((worker) => worker.pid).sort(),
      `results come from exactly the two worker processes (${JSON.stringify([...pids])})`,
    );
  });
});
