import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BACKENDS,
  getJson,
  postJson,
  waitForTerminal,
  type StartedTaskyard,
  useTaskyard,
} from '../helpers/taskyard.js';

interface PolledEvent {
  jobId: string;
  seq: number;
  type: string;
  data: any;
  at: string;
}

async function events(url: string, id: string): Promise<PolledEvent[]> {
  const { status, body } = await getJson(`${url}/v1/jobs/${id}/events`);
  assert.equal(status, 200);
  return body as PolledEvent[];
}

/** POST /cancel as a user would send it: no body. */
async function cancelJob(url: string, id: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/jobs/${id}/cancel`, { method: 'POST' });
  return { status: res.status, body: await res.json() };
}

/** Polls the job's JSON events until one matches. */
async function waitForEvent(url: string, id: string, what: string, match: (e: PolledEvent) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await events(url, id);
    if (seen.some(match)) return;
    if (Date.now() > deadline) throw new Error(`job ${id}: no ${what} event`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

/** The log ends with the cancel error then the cancelled status, and nothing follows. */
async function assertEndsCancelled(url: string, id: string): Promise<{ message: string }> {
  const job = await waitForTerminal(url, id);
  assert.equal(job.status, 'cancelled');
  assert.equal(job.error?.code, 'TASKYARD_ERR_CANCELLED');
  const log = await events(url, id);
  assert.deepEqual(
    log.map((e) => e.seq),
    log.map((_, i) => i + 1),
    'seqs start at 1 with no gap',
  );
  const [error, status] = log.slice(-2);
  assert.equal(error?.type, 'error');
  assert.equal(error?.data.code, 'TASKYARD_ERR_CANCELLED');
  assert.equal(status?.type, 'status');
  assert.equal(status?.data.status, 'cancelled');
  assert.equal(log.filter((e) => e.type === 'status' && ['completed', 'failed', 'cancelled'].includes(e.data.status)).length, 1);
  // Nothing is appended after the terminal status (a late step, result or second ending).
  await new Promise((resolve) => setTimeout(resolve, 300));
  const later = await events(url, id);
  assert.equal(later.length, log.length, 'no event follows the terminal status');
  return error!.data;
}

const isActive = (e: PolledEvent): boolean => e.type === 'status' && e.data?.status === 'active';

for (const backend of BACKENDS) {
  describe(`cancel [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    test('a running job that listens to its signal stops and ends cancelled', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 20_000, steps: 100 } });
      assert.equal(accepted.status, 202);
      const id: string = accepted.body.id;
      await waitForEvent(ty.url, id, 'active status', isActive);
      // Its code is running (not a sandbox still starting up), so the signal is what stops it.
      await waitForEvent(ty.url, id, 'progress', (e) => e.type === 'progress');

      const cancel = await cancelJob(ty.url, id);
      assert.equal(cancel.status, 202);
      assert.equal(cancel.body.id, id);
      assert.equal(cancel.body.cancelRequested, true);
      const error = await assertEndsCancelled(ty.url, id);
      assert.doesNotMatch(error.message, /killed/, 'stopped by its signal, not killed');
    });

    test('a running job that ignores its signal is killed after the grace period, and the pool recovers', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 60_000, steps: 2, busy: true } });
      assert.equal(accepted.status, 202);
      const id: string = accepted.body.id;
      await waitForEvent(ty.url, id, 'active status', isActive);

      const cancel = await cancelJob(ty.url, id);
      assert.equal(cancel.status, 202);
      const error = await assertEndsCancelled(ty.url, id);
      assert.match(error.message, /killed/);

      const next = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 20, steps: 2 } });
      assert.equal(next.status, 202);
      const done = await waitForTerminal(ty.url, next.body.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.result, { sleptMs: 20, steps: 2 });
    });

    test('a waiting job is cancelled at once', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10 }, delayMs: 60_000 });
      assert.equal(accepted.status, 202);
      const id: string = accepted.body.id;

      const cancel = await cancelJob(ty.url, id);
      assert.equal(cancel.status, 202);
      assert.equal(cancel.body.status, 'cancelled');
      const job = await getJson(`${ty.url}/v1/jobs/${id}`);
      assert.equal(job.body.status, 'cancelled');
      const log = await events(ty.url, id);
      assert.deepEqual(
        log.map((e) => (e.type === 'status' ? `status:${e.data.status}` : `${e.type}:${e.data.code}`)),
        ['status:queued', 'error:TASKYARD_ERR_CANCELLED', 'status:cancelled'],
      );
    });

    test('cancelling a finished job answers 409 TASKYARD_ERR_JOB_FINISHED', async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 10, steps: 1 } });
      const id: string = accepted.body.id;
      assert.equal((await waitForTerminal(ty.url, id)).status, 'completed');

      const cancel = await cancelJob(ty.url, id);
      assert.equal(cancel.status, 409);
      assert.equal(cancel.body.error.code, 'TASKYARD_ERR_JOB_FINISHED');
      assert.equal(typeof cancel.body.error.message, 'string');
      assert.equal((await getJson(`${ty.url}/v1/jobs/${id}`)).body.status, 'completed');
    });

    test('cancelling an unknown job answers 404 TASKYARD_ERR_JOB_NOT_FOUND', async () => {
      const cancel = await cancelJob(ty.url, 'no-such-job');
      assert.equal(cancel.status, 404);
      assert.equal(cancel.body.error.code, 'TASKYARD_ERR_JOB_NOT_FOUND');
    });
  });
}
