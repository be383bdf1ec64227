import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { jobEvents, killAllCli, makeTempDir, startCli, waitForExit, waitForJob } from '../helpers/cli-process.js';
import { postJson, startTaskyard, waitForTerminal } from '../helpers/taskyard.js';

const TASKS = 'test/fixtures/tasks.ts';
const statusesOf = (events: Array<{ type: string; data: any }>) => events.filter((e) => e.type === 'status').map((e) => e.data);

describe('graceful shutdown on SIGTERM (CLI, embedded database)', () => {
  // One data dir for the file: each test starts after the previous one's processes have exited.
  let tmp: { dir: string; remove(): Promise<void> };
  before(async () => {
    tmp = await makeTempDir();
  });
  afterEach(() => killAllCli());
  after(async () => {
    await killAllCli();
    await tmp.remove();
  });

  test('a job still running after the grace is put back in the queue, and runs again on the next start', async () => {
    const first = await startCli(['--data-dir', tmp.dir, '--shutdown-grace', '500', '--tasks', TASKS]);
    const accepted = await postJson(`${first.url}/v1/tasks/sleep/jobs`, { input: { ms: 8000, steps: 8 } });
    assert.equal(accepted.status, 202);
    const id: string = accepted.body.id;
    await waitForJob(first.url, id, (job) => job.status === 'active');

    first.proc.signal('SIGTERM');
    assert.deepEqual(await waitForExit(first.proc, 20_000), { code: 0, signal: null }, 'a clean exit');
    assert.match(first.proc.stderr(), /SIGTERM: stopping/);

    const second = await startCli(['--data-dir', tmp.dir, '--tasks', TASKS]);
    const afterRestart = await jobEvents(second.url, id);
    const [queued, active, requeued] = statusesOf(afterRestart);
    assert.equal(queued?.status, 'queued');
    assert.equal(active?.status, 'active');
    assert.equal(requeued?.status, 'queued', 'put back in the queue after it was active');
    assert.equal(typeof requeued?.reason, 'string');
    assert.match(requeued.reason, /shut down/);
    assert.equal(afterRestart.filter((e) => e.type === 'error').length, 0, 'a shutdown is not a failure');

    const job = await waitForTerminal(second.url, id, 40_000);
    assert.equal(job.status, 'completed', 'nothing lost: it ran again to the end');
    assert.deepEqual(job.result, { sleptMs: 8000, steps: 8 });
    const events = await jobEvents(second.url, id);
    assert.deepEqual(
      statusesOf(events).map((s) => s.status),
      ['queued', 'active', 'queued', 'active', 'completed'],
    );
    assert.equal(events.filter((e) => e.type === 'result').length, 1);

    second.proc.signal('SIGTERM');
    assert.deepEqual(await waitForExit(second.proc, 20_000), { code: 0, signal: null });
  });

  test('a job that finishes within the grace completes before the process exits', async () => {
    const cli = await startCli(['--data-dir', tmp.dir, '--shutdown-grace', '5000', '--tasks', TASKS]);
    const accepted = await postJson(`${cli.url}/v1/tasks/sleep/jobs`, { input: { ms: 1000, steps: 4 } });
    assert.equal(accepted.status, 202);
    const id: string = accepted.body.id;
    await waitForJob(cli.url, id, (job) => job.status === 'active');

    cli.proc.signal('SIGTERM');
    assert.deepEqual(await waitForExit(cli.proc, 20_000), { code: 0, signal: null });

    // Open the same data dir again (no worker needed: the job must already be finished).
    const ty = await startTaskyard('pglite', { dataDir: tmp.dir, role: 'api' });
    try {
      const job = await waitForTerminal(ty.url, id, 1000);
      assert.equal(job.status, 'completed');
      assert.deepEqual(job.result, { sleptMs: 1000, steps: 4 });
      const events = await jobEvents(ty.url, id);
      assert.deepEqual(
        statusesOf(events).map((s) => s.status),
        ['queued', 'active', 'completed'],
      );
    } finally {
      await ty.stop();
    }
  });
});
