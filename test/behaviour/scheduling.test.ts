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

async function enqueue(url: string, task: string, body: unknown): Promise<any> {
  const accepted = await postJson(`${url}/v1/tasks/${task}/jobs`, body);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  return accepted.body;
}

/** Polls a job until its status is `active`. */
async function waitForActive(url: string, id: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getJson(`${url}/v1/jobs/${id}`);
    if (body.status === 'active') return;
    if (body.status !== 'queued') throw new Error(`job ${id} is ${body.status}, never seen active`);
    if (Date.now() > deadline) throw new Error(`job ${id} never became active`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every page of GET /v1/jobs?<query>, following nextCursor. */
async function allPages(url: string, query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const page: { status: number; body: any } = await getJson(
      `${url}/v1/jobs?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    assert.equal(page.status, 200);
    pages++;
    ids.push(...page.body.jobs.map((job: { id: string }) => job.id));
    cursor = page.body.nextCursor;
    if (pages > 1000) throw new Error('pagination does not end');
  } while (cursor);
  return { ids, pages };
}

for (const backend of BACKENDS) {
  // One job at a time on the 'default' queue (sleep, whoami, doomed all live there), so priority decides the order.
  describe(`scheduling and listing [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, { concurrency: 1 }, (started) => (ty = started));

    test('waiting jobs start highest priority first', async () => {
      // Long enough that the three enqueues below land while it runs, even on a loaded machine.
      const blocker = await enqueue(ty.url, 'sleep', { input: { ms: 1000, steps: 1 } });
      await waitForActive(ty.url, blocker.id);

      const byPriority = new Map<string, number>();
      for (const priority of [0, 50, 100]) {
        const job = await enqueue(ty.url, 'whoami', { input: {}, priority });
        assert.equal(job.priority, priority);
        byPriority.set(job.id, priority);
      }
      // The blocker is still running: the three waited behind it together.
      assert.equal((await getJson(`${ty.url}/v1/jobs/${blocker.id}`)).body.status, 'active');

      const done = await Promise.all([...byPriority.keys()].map((id) => waitForTerminal(ty.url, id)));
      for (const job of done) assert.equal(job.status, 'completed');
      const finishedBlocker = await waitForTerminal(ty.url, blocker.id);
      const order = done
        .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
        .map((job) => byPriority.get(job.id));
      assert.deepEqual(order, [100, 50, 0]);
      for (const job of done) {
        assert.ok(Date.parse(job.startedAt) >= Date.parse(finishedBlocker.finishedAt), 'none started before the blocker ended');
      }
    });

    test('a delayed job waits queued, then starts no earlier than its delay', async () => {
      const accepted = await enqueue(ty.url, 'whoami', { input: {}, delayMs: 800 });
      assert.equal(accepted.status, 'queued');
      assert.ok(accepted.runAt, 'a delayed job shows when it will run');
      const now = await getJson(`${ty.url}/v1/jobs/${accepted.id}`);
      assert.equal(now.body.status, 'queued');
      assert.equal(now.body.startedAt, null);

      const done = await waitForTerminal(ty.url, accepted.id);
      assert.equal(done.status, 'completed');
      assert.ok(
        Date.parse(done.startedAt) - Date.parse(done.createdAt) >= 800,
        `started ${Date.parse(done.startedAt) - Date.parse(done.createdAt)} ms after it was created`,
      );
    });

    test('the job list pages newest first with no duplicates, and filters by task and status', async () => {
      const created: string[] = [];
      for (let i = 0; i < 3; i++) created.push((await enqueue(ty.url, 'whoami', { input: {} })).id);
      const doomed: string[] = [];
      for (let i = 0; i < 2; i++) doomed.push((await enqueue(ty.url, 'doomed', { input: {} })).id);
      created.push(...doomed);
      for (const id of created) await waitForTerminal(ty.url, id);

      const everything = await getJson(`${ty.url}/v1/jobs?limit=100`);
      assert.equal(everything.status, 200);
      assert.equal(everything.body.nextCursor, null);
      const allIds: string[] = everything.body.jobs.map((job: { id: string }) => job.id);
      assert.ok(allIds.length >= created.length);

      const paged = await allPages(ty.url, 'limit=2');
      assert.deepEqual(paged.ids, allIds, 'pages of 2 cover every job, once, in the same order');
      assert.equal(new Set(paged.ids).size, paged.ids.length, 'no duplicates');
      assert.equal(paged.pages, Math.ceil(allIds.length / 2));
      const createdTimes = everything.body.jobs.map((job: { createdAt: string }) => Date.parse(job.createdAt));
      assert.deepEqual(
        createdTimes,
        [...createdTimes].sort((a, b) => b - a),
        'newest first',
      );
      // The jobs made just now are the newest, in reverse order of creation.
      assert.deepEqual(allIds.slice(0, created.length), [...created].reverse());

      const byTask = await allPages(ty.url, 'task=doomed&limit=1');
      assert.deepEqual(byTask.ids, [...doomed].reverse());

      const failed = await getJson(`${ty.url}/v1/jobs?status=failed`);
      assert.equal(failed.status, 200);
      assert.deepEqual(
        failed.body.jobs.map((job: { id: string }) => job.id),
        [...doomed].reverse(),
      );
      for (const job of failed.body.jobs) assert.equal(job.status, 'failed');

      const completedWhoami = await getJson(`${ty.url}/v1/jobs?task=whoami&status=completed&limit=100`);
      assert.equal(completedWhoami.status, 200);
      const completedIds: string[] = completedWhoami.body.jobs.map((job: { id: string }) => job.id);
      for (const id of created.slice(0, 3)) assert.ok(completedIds.includes(id));
      for (const job of completedWhoami.body.jobs) {
        assert.equal(job.task, 'whoami');
        assert.equal(job.status, 'completed');
      }

      const none = await getJson(`${ty.url}/v1/jobs?task=no-such-task`);
      assert.deepEqual(none.body, { jobs: [], nextCursor: null });
    });

    for (const [what, query] of [
      ['an unknown status', 'status=nope'],
      ['limit=0', 'limit=0'],
      ['limit=101', 'limit=101'],
    ] as const) {
      test(`listing with ${what} answers 400 TASKYARD_ERR_VALIDATION`, async () => {
        const refused = await getJson(`${ty.url}/v1/jobs?${query}`);
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error.code, 'TASKYARD_ERR_VALIDATION');
      });
    }
  });
}
