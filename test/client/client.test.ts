import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createClient, JobFailedError, TaskyardHttpError } from '../../src/client/index.js';
import { ContractServer, eventually, json } from './contract-server.js';

const FAST = { minDelayMs: 5, maxDelayMs: 20, idleTimeoutMs: 5_000 };

function isHttpError(status: number, code: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof TaskyardHttpError, `expected a TaskyardHttpError, got ${String(error)}`);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    return true;
  };
}

describe('taskyard/client', () => {
  let server: ContractServer;
  beforeEach(async () => {
    server = await new ContractServer().start();
  });
  afterEach(() => server.close());

  test('enqueue posts the input and options, and returns a handle with the answer', async () => {
    const client = createClient({ url: `${server.url}/`, headers: { authorization: 'Bearer t' } });

    const job = await client.enqueue('compute-pi', { digits: 10 }, { priority: 7, delayMs: 50, attempts: 2, idempotencyKey: 'k-1' });

    assert.equal(job.task, 'compute-pi');
    assert.equal(job.queue, 'default');
    assert.equal(job.status, 'queued');
    assert.equal(typeof job.createdAt, 'string');
    assert.equal(job.links.events, `/v1/jobs/${job.id}/events`);
    const [request] = server.requestsTo('/v1/tasks/compute-pi/jobs');
    assert.deepEqual(request?.body, { input: { digits: 10 }, priority: 7, delayMs: 50, attempts: 2 });
    assert.equal(request?.headers['idempotency-key'], 'k-1');
    assert.equal(request?.headers['authorization'], 'Bearer t');
    assert.equal(request?.headers['content-type'], 'application/json');

    const again = await client.enqueue('compute-pi', { digits: 10 }, { idempotencyKey: 'k-1' });
    assert.equal(again.id, job.id, 'the idempotency key finds the first job (200)');
  });

  test('an error body becomes a TaskyardHttpError with its code, message and details', async () => {
    const client = createClient({ url: server.url });

    await assert.rejects(client.enqueue('compute-pi', { digits: 'ten' }), (error: unknown) => {
      isHttpError(400, 'TASKYARD_ERR_VALIDATION')(error);
      assert.equal((error as TaskyardHttpError).message, 'input.digits: expected number');
      assert.deepEqual((error as TaskyardHttpError).details, { issues: [{ path: ['digits'] }] });
      return true;
    });
    await assert.rejects(client.enqueue('no-such-task', {}), isHttpError(404, 'TASKYARD_ERR_TASK_NOT_FOUND'));
    await assert.rejects(client.getJob('missing'), isHttpError(404, 'TASKYARD_ERR_JOB_NOT_FOUND'));
  });

  test('an error without a Taskyard body, or a malformed success, still has a code', async () => {
    server.override = (request, res) => {
      if (request.url.pathname === '/v1/tasks') {
        res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
        return true;
      }
      if (request.url.pathname === '/v1/jobs') {
        json(res, 200, { jobs: 'not an array' });
        return true;
      }
      return false;
    };
    const client = createClient({ url: server.url });

    await assert.rejects(client.listTasks(), isHttpError(502, 'TASKYARD_ERR_HTTP'));
    await assert.rejects(client.listJobs(), isHttpError(200, 'TASKYARD_ERR_BAD_RESPONSE'));
  });

  test('getJob, listJobs and listTasks read their routes', async () => {
    const client = createClient({ url: server.url });
    const job = await client.enqueue('sleep', { ms: 1 });

    const info = await client.getJob(job.id);
    assert.equal(info.id, job.id);
    assert.equal(info.status, 'queued');
    assert.equal(info.progress, null);

    const page = await client.listJobs({ task: 'sleep', status: 'queued', limit: 5 });
    assert.deepEqual(
      page.jobs.map((listed) => listed.id),
      [job.id],
    );
    assert.equal(page.nextCursor, null);
    const query = server.requestsTo('/v1/jobs')[0]?.url.searchParams;
    assert.deepEqual(Object.fromEntries(query ?? []), { task: 'sleep', status: 'queued', limit: '5' });

    assert.deepEqual(await client.listTasks(), [{ name: 'compute-pi', queue: 'default', description: 'π', inputSchema: { type: 'object' } }]);
  });

  test('cancel answers 202 once, then 409 as a TaskyardHttpError', async () => {
    const client = createClient({ url: server.url });
    const job = await client.enqueue('sleep', { ms: 1000 });

    assert.deepEqual(await job.cancel(), { id: job.id, status: 'cancelled' });
    await assert.rejects(job.cancel(), isHttpError(409, 'TASKYARD_ERR_JOB_FINISHED'));
  });

  test('result() waits for the terminal event and resolves with the result', async () => {
    const client = createClient({ url: server.url, reconnect: FAST });
    const job = await client.enqueue('compute-pi', { digits: 3 });
    server.sse = (connection) => (connection === 0 ? { dropAfter: 2 } : {});

    const result = job.result();
    assert.ok(await eventually(() => server.liveStreams(job.id) > 0), 'result() follows the stream');
    server.append(job.id, 'status', { status: 'active', attempt: 1 });
    server.append(job.id, 'partial', { position: 1, digit: 3 });
    server.append(job.id, 'result', '314');
    server.append(job.id, 'status', { status: 'completed' });

    assert.equal(await result, '314');
    assert.equal(server.requestsTo(`/v1/jobs/${job.id}/events`).length, 2, 'it resumed after the drop');
  });

  test('result() rejects with a JobFailedError carrying the final error and status', async () => {
    const client = createClient({ url: server.url, reconnect: FAST });
    const job = await client.enqueue('compute-pi', { digits: 3 });

    const result = job.result();
    assert.ok(await eventually(() => server.liveStreams(job.id) > 0), 'result() follows the stream');
    server.append(job.id, 'status', { status: 'active', attempt: 1 });
    server.append(job.id, 'error', { code: 'TASKYARD_ERR_TASK_FAILED', message: 'first try', attempt: 1 });
    server.append(job.id, 'status', { status: 'retrying', delayMs: 10 });
    server.append(job.id, 'status', { status: 'active', attempt: 2 });
    server.append(job.id, 'error', { code: 'TASKYARD_ERR_PERMANENT', message: 'second try', attempt: 2 });
    server.append(job.id, 'status', { status: 'failed' });

    await assert.rejects(result, (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.jobId, job.id);
      assert.equal(error.status, 'failed');
      assert.equal(error.code, 'TASKYARD_ERR_PERMANENT');
      assert.deepEqual(error.error, { code: 'TASKYARD_ERR_PERMANENT', message: 'second try', attempt: 2 });
      return true;
    });
  });

  test('result() of a finished job settles from the stored job, without a stream', async () => {
    const client = createClient({ url: server.url });
    const done = await client.enqueue('sleep', { ms: 1 });
    server.append(done.id, 'result', { sleptMs: 1, steps: 1 });
    server.append(done.id, 'status', { status: 'completed' });
    const cancelled = await client.enqueue('sleep', { ms: 1 });
    await cancelled.cancel();

    assert.deepEqual(await client.job(done.id).result(), { sleptMs: 1, steps: 1 });
    await assert.rejects(client.job(cancelled.id).result(), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.status, 'cancelled');
      assert.equal(error.code, 'TASKYARD_ERR_CANCELLED');
      return true;
    });
    assert.equal(server.requests.filter((request) => request.url.pathname.endsWith('/events')).length, 0);
  });

  test('rejects a URL it cannot parse at once', () => {
    assert.throws(() => createClient({ url: '127.0.0.1:3000' }), TypeError);
  });

  test('uses the fetch it is given', async () => {
    const urls: string[] = [];
    const client = createClient({
      url: server.url,
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(input, init);
      },
    });

    await client.listTasks();
    assert.deepEqual(urls, [`${server.url}/v1/tasks`]);
  });
});
