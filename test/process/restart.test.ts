import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobEvents, makeTempDir } from '../helpers/cli-process.js';
import { getJson, postJson, readSse, startTaskyard, waitForTerminal, type StartedTaskyard } from '../helpers/taskyard.js';

describe('restart on the same embedded data dir [pglite]', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let ty: StartedTaskyard | undefined;

  before(async () => {
    tmp = await makeTempDir();
  });
  after(async () => {
    await ty?.stop();
    await tmp.remove();
  });

  test('finished jobs, their event logs and a delayed job all survive a stop and start', async () => {
    ty = await startTaskyard('pglite', { dataDir: tmp.dir });
    const sleep = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 100, steps: 2 } });
    const pi = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits: 20 } });
    assert.equal(sleep.status, 202);
    assert.equal(pi.status, 202);
    const sleepBefore = await waitForTerminal(ty.url, sleep.body.id);
    const piBefore = await waitForTerminal(ty.url, pi.body.id);
    assert.equal(sleepBefore.status, 'completed');
    assert.deepEqual(sleepBefore.result, { sleptMs: 100, steps: 2 });
    assert.equal(piBefore.status, 'completed');
    assert.equal(piBefore.result, '31415926535897932384');
    const sleepEventsBefore = await readSse(`${ty.url}/v1/jobs/${sleep.body.id}/events`);
    const piEventsBefore = await readSse(`${ty.url}/v1/jobs/${pi.body.id}/events`);
    assert.equal(piEventsBefore.filter((e) => e.event === 'partial').length, 20, 'one partial per digit');

    // Enqueued just before the stop, due after it: it must not be lost.
    const delayed = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 50, steps: 1 }, delayMs: 1500 });
    assert.equal(delayed.status, 202);
    await ty.stop();
    ty = undefined;

    ty = await startTaskyard('pglite', { dataDir: tmp.dir });

    for (const [before, eventsBefore] of [
      [sleepBefore, sleepEventsBefore],
      [piBefore, piEventsBefore],
    ] as const) {
      const after = await getJson(`${ty.url}/v1/jobs/${before.id}`);
      assert.equal(after.status, 200);
      assert.equal(after.body.status, 'completed');
      assert.deepEqual(after.body.result, before.result);
      assert.equal(after.body.finishedAt, before.finishedAt);
      const replay = await readSse(`${ty.url}/v1/jobs/${before.id}/events`);
      assert.deepEqual(replay, eventsBefore, 'the SSE replay is the same as before the restart');
    }

    const done = await waitForTerminal(ty.url, delayed.body.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.result, { sleptMs: 50, steps: 1 });
    const events = await jobEvents(ty.url, delayed.body.id);
    const statuses = events.filter((e) => e.type === 'status').map((e) => e.data.status);
    assert.deepEqual(statuses, ['queued', 'active', 'completed'], 'it ran once');
    assert.equal(events.filter((e) => e.type === 'result').length, 1);
  });
});
