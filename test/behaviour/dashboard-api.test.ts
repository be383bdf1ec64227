// The /v1 endpoints the dashboard is built on: search over history, throughput,
// workers, retry. Run on every backend.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, type StartedTaskyard, until, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';

for (const backend of BACKENDS) {
  describe(`dashboard API [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    const mark = randomBytes(4).toString('hex');
    const startedAt = new Date(Date.now() - 1000).toISOString();
    const ids: { alpha: string[]; gamma?: string } = { alpha: [] };

    const search = async (query: Record<string, string>) => getJson(`${ty.url}/v1/jobs?${new URLSearchParams(query)}`);
    /** History trails the live log by the projector's lag on Redis: wait until a search sees `count` finished jobs. */
    const searchUntil = (query: Record<string, string>, count: number) =>
      until(`${count} finished jobs for ${JSON.stringify(query)}`, async () => {
        const res = await search(query);
        const jobs: Array<{ finishedAt: string | null }> = res.body.jobs ?? [];
        return jobs.length === count && jobs.every((job) => job.finishedAt) ? res : undefined;
      });

    test('search finds jobs by text in their input or error, with filters, newest first, page by page', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await postJson(`${ty.url}/v1/tasks/echo/jobs`, { input: { text: `alpha-${mark} number ${i}` } });
        assert.equal(res.status, 202);
        ids.alpha.push(res.body.id);
      }
      const failing = await postJson(`${ty.url}/v1/tasks/echo/jobs`, { input: { text: `gamma-${mark}`, fail: true } });
      ids.gamma = failing.body.id;
      for (const id of [...ids.alpha, ids.gamma!]) await waitForTerminal(ty.url, id);

      const all = await searchUntil({ q: `alpha-${mark}` }, 3);
      assert.deepEqual(all.body.jobs.map((job: { id: string }) => job.id), [...ids.alpha].reverse(), 'newest first');
      assert.ok(all.body.jobs.every((job: { status: string }) => job.status === 'completed'));
      assert.equal(all.body.nextCursor, null);
      // Case-insensitive; `%` and `_` are literal characters, not wildcards.
      assert.equal((await search({ q: `ALPHA-${mark}` })).body.jobs.length, 3);
      assert.equal((await search({ q: `alpha_${mark}` })).body.jobs.length, 0);
      assert.equal((await search({ q: '%%' })).body.jobs.length, 0);

      // Text only the error carries (the input has no "refused").
      const byError = await searchUntil({ q: `refused: gamma-${mark}` }, 1);
      assert.equal(byError.body.jobs[0].id, ids.gamma);
      assert.equal(byError.body.jobs[0].error.code, 'TASKYARD_ERR_PERMANENT');
      assert.equal((await search({ q: mark, status: 'failed' })).body.jobs.length, 1);
      assert.equal((await search({ q: mark, status: 'completed', task: 'echo', queue: 'default' })).body.jobs.length, 3);
      assert.equal((await search({ q: mark, task: 'sleep' })).body.jobs.length, 0);

      const first = await search({ q: mark, limit: '3' });
      assert.equal(first.body.jobs.length, 3);
      assert.ok(first.body.nextCursor);
      const second = await search({ q: mark, limit: '3', cursor: first.body.nextCursor });
      assert.deepEqual(second.body.jobs.map((job: { id: string }) => job.id), [ids.alpha[0]]);
      assert.equal(second.body.nextCursor, null);

      assert.equal((await search({ q: mark, from: startedAt })).body.jobs.length, 4);
      assert.equal((await search({ q: mark, to: startedAt })).body.jobs.length, 0);
      assert.equal((await search({ q: mark, from: new Date(Date.now() + 60_000).toISOString() })).body.jobs.length, 0);
      assert.equal((await search({ q: mark, from: startedAt.slice(0, 10) })).body.jobs.length, 4, 'a date alone is midnight UTC');
    });

    test('bad search parameters are a 400 naming the field', async () => {
      for (const [query, field] of [
        [{ q: 'x' }, 'q'],
        [{ from: 'yesterday' }, 'from'],
        [{ to: '2026-13-45T99:00:00Z' }, 'to'],
        [{ limit: '0' }, 'limit'],
        [{ sort: 'name' }, ''],
      ] as const) {
        const res = await search(query);
        assert.equal(res.status, 400, JSON.stringify(query));
        assert.equal(res.body.error.code, 'TASKYARD_ERR_VALIDATION');
        if (field) assert.equal(res.body.error.details[0].path, field);
      }
    });

    test('throughput counts the jobs that ended, per bucket, over the last minutes', async () => {
      const res = await getJson(`${ty.url}/v1/stats/throughput?minutes=15`);
      assert.equal(res.status, 200);
      assert.equal(res.body.bucketSeconds, 15);
      assert.equal(res.body.buckets.length, 60);
      const times = res.body.buckets.map((bucket: { at: string }) => Date.parse(bucket.at));
      assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
      const sum = (key: string) => res.body.buckets.reduce((total: number, bucket: Record<string, number>) => total + bucket[key]!, 0);
      assert.ok(sum('completed') >= 3, `completed ${sum('completed')}`);
      assert.ok(sum('failed') >= 1, `failed ${sum('failed')}`);
      assert.equal((await getJson(`${ty.url}/v1/stats/throughput?minutes=0`)).status, 400);

      // Of one queue: the fixture tasks' queue has them all, a queue no job used has none.
      const ofQueue = async (queue: string) => {
        const { status, body } = await getJson(`${ty.url}/v1/stats/throughput?minutes=15&queue=${queue}`);
        assert.equal(status, 200);
        assert.equal(body.buckets.length, 60);
        return body.buckets.reduce((total: number, bucket: Record<string, number>) => total + bucket.completed! + bucket.failed! + bucket.cancelled!, 0);
      };
      assert.equal(await ofQueue('default'), sum('completed') + sum('failed') + sum('cancelled'));
      assert.equal(await ofQueue('no-such-queue'), 0);
      assert.equal((await getJson(`${ty.url}/v1/stats/throughput?queue=${'q'.repeat(65)}`)).status, 400);
    });

    test('workers list this process with its queues and the job it holds', async () => {
      const { body } = await getJson(`${ty.url}/v1/workers`);
      const me = body.workers.find((worker: { pid: number }) => worker.pid === process.pid);
      assert.ok(me, JSON.stringify(body));
      assert.equal(me.alive, true);
      assert.ok(me.queues.includes('default'));
      assert.equal(me.concurrency, 4);

      const sleeping = await postJson(`${ty.url}/v1/tasks/sleep/jobs`, { input: { ms: 4000, steps: 4 } });
      const holding = await until('the worker to show the job in hand', async () => {
        const workers = (await getJson(`${ty.url}/v1/workers`)).body.workers;
        return workers.find((worker: { active: Array<{ jobId: string }> }) => worker.active.some((job) => job.jobId === sleeping.body.id));
      }, 10_000);
      const held = holding.active.find((job: { jobId: string }) => job.jobId === sleeping.body.id);
      assert.equal(held.task, 'sleep');
      assert.equal(held.queue, 'default');
      await postJson(`${ty.url}/v1/jobs/${sleeping.body.id}/cancel`, {});
      await waitForTerminal(ty.url, sleeping.body.id);
    });

    test('retry enqueues a new job with the same input that names the one it retries; the old one stays as it was', async () => {
      const failed = ids.gamma!;
      const before = (await getJson(`${ty.url}/v1/jobs/${failed}`)).body;
      const res = await postJson(`${ty.url}/v1/jobs/${failed}/retry`, {});
      assert.equal(res.status, 202);
      assert.notEqual(res.body.id, failed);
      assert.equal(res.body.retryOf, failed);
      assert.equal(res.body.task, 'echo');
      assert.deepEqual(res.body.input, before.input);
      const retried = await waitForTerminal(ty.url, res.body.id);
      assert.equal(retried.status, 'failed');
      assert.equal(retried.retryOf, failed);
      const after = (await getJson(`${ty.url}/v1/jobs/${failed}`)).body;
      assert.deepEqual({ ...after, links: undefined }, { ...before, links: undefined });
      assert.equal(after.retryOf, null);

      const completed = await postJson(`${ty.url}/v1/jobs/${ids.alpha[0]}/retry`, {});
      assert.equal(completed.status, 409);
      assert.equal(completed.body.error.code, 'TASKYARD_ERR_JOB_NOT_RETRYABLE');
      assert.equal((await postJson(`${ty.url}/v1/jobs/nope/retry`, {})).status, 404);
    });
  });
}
