// GET /metrics as Prometheus scrapes it: job counters and times, queue gauges,
// live connections, delivery latency, HTTP durations by route; and a worker's
// own metrics port. Run on every backend.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { BACKENDS, getJson, isolatedStorage, postJson, startTaskyard, type StartedTaskyard, until, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';
import { scrape, valueOf, type Sample } from '../helpers/prometheus.js';

const submit = async (url: string, task: string, input: unknown, extra: Record<string, unknown> = {}): Promise<string> => {
  const res = await postJson(`${url}/v1/tasks/${task}/jobs`, { input, ...extra });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.id as string;
};

for (const backend of BACKENDS) {
  describe(`metrics [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));
    const metrics = (): Promise<Sample[]> => scrape(`${ty.url}/metrics`);

    test('jobs are counted by task, queue and outcome, and their run and queue times observed', async () => {
      const before = await metrics();
      const jobs = ['flaky', { succeedOn: 2 }, 'doomed', {}, 'echo', { text: 'hello' }] as const;
      const ids = [await submit(ty.url, jobs[0], jobs[1]), await submit(ty.url, jobs[2], jobs[3]), await submit(ty.url, jobs[4], jobs[5])];
      const cancelled = await submit(ty.url, 'sleep', { ms: 30_000 });
      await until('the sleep job to run', async () => ((await getJson(`${ty.url}/v1/jobs/${cancelled}`)).body.status === 'active' ? true : undefined));
      assert.equal((await postJson(`${ty.url}/v1/jobs/${cancelled}/cancel`, {})).status, 202);
      for (const id of [...ids, cancelled]) await waitForTerminal(ty.url, id);

      const after = await metrics();
      const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
      for (const task of ['flaky', 'doomed', 'echo', 'sleep']) assert.equal(delta('taskyard_jobs_enqueued_total', { task, queue: 'default' }), 1, `${task} enqueued once`);
      assert.deepEqual(
        {
          flakyRetried: delta('taskyard_jobs_total', { task: 'flaky', outcome: 'retried' }),
          flakyCompleted: delta('taskyard_jobs_total', { task: 'flaky', outcome: 'completed' }),
          doomedFailed: delta('taskyard_jobs_total', { task: 'doomed', outcome: 'failed' }),
          doomedRetried: delta('taskyard_jobs_total', { task: 'doomed', outcome: 'retried' }),
          echoCompleted: delta('taskyard_jobs_total', { task: 'echo', outcome: 'completed' }),
          sleepCancelled: delta('taskyard_jobs_total', { task: 'sleep', outcome: 'cancelled' }),
        },
        { flakyRetried: 1, flakyCompleted: 1, doomedFailed: 1, doomedRetried: 0, echoCompleted: 1, sleepCancelled: 1 },
      );
      // Every run is timed; queue time only for first runs (a retry waits for its backoff, not for the queue).
      assert.equal(delta('taskyard_job_run_seconds_count', { task: 'flaky' }), 2);
      assert.equal(delta('taskyard_job_queue_seconds_count', { task: 'flaky' }), 1);
      assert.ok(delta('taskyard_job_run_seconds_sum', { task: 'sleep', outcome: 'cancelled' }) > 0, 'the cancelled run took some time');
      assert.equal(delta('taskyard_job_run_seconds_bucket', { task: 'echo', outcome: 'completed', le: '+Inf' }), 1);
    });

    test('open SSE streams and WebSockets are counted while they last; live events are timed to the client', async () => {
      const id = await submit(ty.url, 'sleep', { ms: 30_000 });
      const before = await metrics();
      const sse = await new Promise<http.ClientRequest>((resolve) => {
        const request = http.get(`${ty.url}/v1/jobs/${id}/events`, (res) => {
          res.resume();
          resolve(request);
        });
      });
      const ws = new WebSocket(`${ty.url.replace('http', 'ws')}/v1/ws`);
      await new Promise((resolve) => ws.once('open', resolve));
      const open = await until('both connections to show', async () => {
        const now = await metrics();
        return valueOf(now, 'taskyard_live_connections', { transport: 'sse' }) === 1 && valueOf(now, 'taskyard_live_connections', { transport: 'ws' }) === 1 ? now : undefined;
      });
      assert.equal(valueOf(before, 'taskyard_live_connections', { transport: 'ws' }), 0);

      // The cancel's events reach the SSE watcher live.
      assert.equal((await postJson(`${ty.url}/v1/jobs/${id}/cancel`, {})).status, 202);
      await waitForTerminal(ty.url, id);
      const delivered = await until('the live events to be timed', async () => {
        const now = await metrics();
        return valueOf(now, 'taskyard_event_delivery_seconds_count') > valueOf(open, 'taskyard_event_delivery_seconds_count') ? now : undefined;
      });
      assert.ok(valueOf(delivered, 'taskyard_event_delivery_seconds_bucket', { le: '+Inf' }) >= 1);

      sse.destroy();
      ws.close();
      await until('both connections to be gone', async () => {
        const now = await metrics();
        return valueOf(now, 'taskyard_live_connections', { transport: 'sse' }) === 0 && valueOf(now, 'taskyard_live_connections', { transport: 'ws' }) === 0 ? true : undefined;
      });
    });

    test('HTTP requests are timed by route pattern and status, never by raw URL', async () => {
      const a = await submit(ty.url, 'echo', { text: 'a' });
      const b = await submit(ty.url, 'echo', { text: 'b' });
      const before = await metrics();
      assert.equal((await getJson(`${ty.url}/v1/jobs/${a}`)).status, 200);
      assert.equal((await getJson(`${ty.url}/v1/jobs/${b}`)).status, 200);
      assert.equal((await getJson(`${ty.url}/v1/jobs/01a25196-f584-7069-b2c8-c211d260675f`)).status, 404);
      assert.equal((await getJson(`${ty.url}/no/such/route`)).status, 404);
      const after = await metrics();
      const count = (labels: Record<string, string>) =>
        valueOf(after, 'taskyard_http_request_duration_seconds_count', labels) - valueOf(before, 'taskyard_http_request_duration_seconds_count', labels);
      assert.equal(count({ method: 'GET', route: '/v1/jobs/:id', status: '200' }), 2);
      assert.equal(count({ method: 'GET', route: '/v1/jobs/:id', status: '404' }), 1);
      assert.equal(count({ method: 'GET', route: 'unmatched', status: '404' }), 1);
      assert.ok(!after.some((sample) => Object.values(sample.labels).some((value) => value.includes(a))), 'no job id in any label');
      // Node's own metrics come along.
      assert.ok(valueOf(after, 'process_cpu_user_seconds_total') > 0);
      assert.ok(after.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds'));
    });

    test('queue gauges: waiting and delayed jobs, the oldest waiting job\'s age, paused queues', async () => {
      assert.equal((await postJson(`${ty.url}/v1/queues/default/pause`, {})).status, 200);
      try {
        const waiting = await submit(ty.url, 'echo', { text: 'waits' });
        const delayed = await submit(ty.url, 'echo', { text: 'later' }, { delayMs: 60_000 });
        await new Promise((resolve) => setTimeout(resolve, 1200));
        const now = await metrics();
        assert.equal(valueOf(now, 'taskyard_queue_paused', { queue: 'default' }), 1);
        assert.ok(valueOf(now, 'taskyard_queue_jobs', { queue: 'default', state: 'waiting' }) >= 1);
        assert.ok(valueOf(now, 'taskyard_queue_jobs', { queue: 'default', state: 'delayed' }) >= 1);
        const age = valueOf(now, 'taskyard_queue_oldest_waiting_seconds', { queue: 'default' });
        assert.ok(age >= 1 && age < 60, `the waiting job has waited about a second (${age} s); the delayed one is not counted`);
        assert.ok(now.some((sample) => sample.name === 'taskyard_event_log_lag_events'), 'the event-log lag is reported (its value is tested with the projector)');
        assert.equal((await postJson(`${ty.url}/v1/jobs/${delayed}/cancel`, {})).status, 202);
        await postJson(`${ty.url}/v1/queues/default/resume`, {});
        await waitForTerminal(ty.url, waiting);
      } finally {
        await postJson(`${ty.url}/v1/queues/default/resume`, {});
      }
      const drained = await metrics();
      assert.equal(valueOf(drained, 'taskyard_queue_paused', { queue: 'default' }), 0);
    });
  });
}

describe('a worker process serves its own metrics on --metrics-port [postgres]', () => {
  test('the worker counts the jobs it ran; the API that accepted them counts the enqueue', async () => {
    const storage = isolatedStorage('postgres');
    const api = await startTaskyard('postgres', { ...storage, role: 'api', tasks: ['test/fixtures/tasks.ts'] });
    const worker = await startTaskyard('postgres', { ...storage, role: 'worker', tasks: ['test/fixtures/tasks.ts'], metricsPort: 0 });
    try {
      const metricsUrl = worker.taskyard.metricsUrl!;
      assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      const id = await submit(api.url, 'echo', { text: 'on the worker' });
      await waitForTerminal(api.url, id);
      const fromWorker = await until('the worker to count the job', async () => {
        const samples = await scrape(`${metricsUrl}/metrics`);
        return valueOf(samples, 'taskyard_jobs_total', { task: 'echo', outcome: 'completed' }) === 1 ? samples : undefined;
      });
      assert.equal(valueOf(fromWorker, 'taskyard_jobs_enqueued_total'), 0, 'the worker accepted nothing');
      const fromApi = await scrape(`${api.url}/metrics`);
      assert.equal(valueOf(fromApi, 'taskyard_jobs_enqueued_total', { task: 'echo' }), 1);
      assert.equal(valueOf(fromApi, 'taskyard_jobs_total', { task: 'echo' }), 0, 'the API ran nothing');
      const health = await fetch(`${metricsUrl}/health`);
      assert.equal(health.status, 200);
      assert.equal((await fetch(`${metricsUrl}/nowhere`)).status, 404);
    } finally {
      await worker.stop();
      await api.stop();
    }
  });
});
