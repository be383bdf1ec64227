import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, test } from 'node:test';
import { postJson, type StartedTaskyard, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';

async function threadsOf(url: string, jobs: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < jobs; i++) {
    const accepted = await postJson(`${url}/v1/tasks/whoami/jobs`, { input: {} });
    const job = await waitForTerminal(url, accepted.body.id);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    ids.push(job.result.threadId);
  }
  return ids;
}

// Thread recycling is the sandbox's business, the same on every backend: one backend suffices.
describe('--max-jobs-per-child', () => {
  describe('set to 2', () => {
    let ty!: StartedTaskyard;
    useTaskyard('pglite', { maxJobsPerChild: 2, concurrency: 1, queues: ['default'] }, (started) => (ty = started));
    test('a sandbox thread runs at most 2 jobs, then a fresh one takes over; every job completes', async () => {
      const ids = await threadsOf(ty.url, 6);
      const perThread = new Map<number, number>();
      for (const id of ids) perThread.set(id, (perThread.get(id) ?? 0) + 1);
      assert.ok(perThread.size >= 3, `6 jobs ran on ${perThread.size} threads`);
      for (const [id, count] of perThread) assert.ok(count <= 2, `thread ${id} ran ${count} jobs`);
    });
  });

  describe('unset', () => {
    let ty!: StartedTaskyard;
    useTaskyard('pglite', { concurrency: 1, queues: ['default'] }, (started) => (ty = started));
    test('task code runs at nice 10 (Linux), below the API and the runtime', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/whoami/jobs`, { input: {} });
      const job = await waitForTerminal(ty.url, accepted.body.id);
      assert.equal(job.result.nice, process.platform === 'linux' ? Math.max(10, os.getPriority()) : os.getPriority());
    });

    test('threads are reused', async () => {
      const ids = await threadsOf(ty.url, 6);
      assert.ok(new Set(ids).size < 6, `every job on a thread of its own: ${ids.join(',')}`);
    });
  });
});
