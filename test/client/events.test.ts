import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createClient, TaskyardHttpError, type JobEvent } from '../../src/client/index.js';
import { ContractServer, errorBody, eventually, sseFrame } from './contract-server.js';

const FAST = { minDelayMs: 5, maxDelayMs: 20, idleTimeoutMs: 5_000 };

async function collect(events: AsyncIterable<JobEvent>, onEvent?: (event: JobEvent) => void): Promise<JobEvent[]> {
  const seen: JobEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    onEvent?.(event);
  }
  return seen;
}

function seqs(events: JobEvent[]): number[] {
  return events.map((event) => event.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('job.events()', () => {
  let server: ContractServer;
  beforeEach(async () => {
    server = await new ContractServer().start();
  });
  afterEach(() => server.close());

  test('replays stored events, streams live ones, and ends after the terminal status', async () => {
    const job = server.addJob('compute-pi');
    server.append(job.id, 'status', { status: 'queued' });
    server.append(job.id, 'status', { status: 'active', attempt: 1 });
    server.append(job.id, 'partial', { position: 1, digit: 3 });
    const client = createClient({ url: server.url, reconnect: FAST });

    const seen = await collect(client.job(job.id).events(), (event) => {
      // Once the replay is through, the job goes on live.
      if (event.seq === 3) {
        server.append(job.id, 'progress', { current: 1, total: 1 });
        server.append(job.id, 'result', '3');
        server.append(job.id, 'status', { status: 'completed' });
      }
    });

    assert.deepEqual(seqs(seen), range(1, 6));
    assert.deepEqual(
      seen.map((event) => event.type),
      ['status', 'status', 'partial', 'progress', 'result', 'status'],
    );
    assert.deepEqual(seen[2], { jobId: job.id, seq: 3, type: 'partial', data: { position: 1, digit: 3 }, at: '' });
    assert.deepEqual(seen[5]?.data, { status: 'completed' });
    assert.equal(server.requestsTo(`/v1/jobs/${job.id}/events`).length, 1, 'one connection sufficed');
  });

  test('resumes a dropped stream from the last seq, with exactly the missing events', async () => {
    const job = server.addJob('compute-pi');
    for (let i = 1; i <= 7; i++) server.append(job.id, 'partial', { position: i });
    server.append(job.id, 'status', { status: 'completed' });
    server.sse = (connection) => (connection === 0 ? { dropAfter: 4 } : {});
    const client = createClient({ url: server.url, reconnect: FAST });

    const seen = await collect(client.job(job.id).events());

    assert.deepEqual(seqs(seen), range(1, 8), 'seq 1..8, contiguous, none twice');
    const connections = server.requestsTo(`/v1/jobs/${job.id}/events`);
    assert.equal(connections.length, 2);
    assert.equal(connections[1]?.headers['last-event-id'], '4');
    assert.equal(connections[1]?.url.searchParams.get('after'), '4');
  });

  test('starts after `after`, and resumes a drop during the live part', async () => {
    const job = server.addJob('sleep');
    server.append(job.id, 'status', { status: 'queued' });
    server.append(job.id, 'status', { status: 'active' });
    server.sse = (connection) => (connection === 0 ? { dropAfter: 2 } : {});
    const client = createClient({ url: server.url, reconnect: FAST });

    const seen = await collect(client.job(job.id).events({ after: 1 }), (event) => {
      if (event.seq === 2) for (let i = 1; i <= 4; i++) server.append(job.id, 'progress', { current: i, total: 4 });
      if (event.seq === 6) server.append(job.id, 'status', { status: 'completed' });
    });

    assert.deepEqual(seqs(seen), range(2, 7));
    const connections = server.requestsTo(`/v1/jobs/${job.id}/events`);
    assert.equal(connections[0]?.url.searchParams.get('after'), '1');
    assert.equal(connections[1]?.headers['last-event-id'], '3');
  });

  test('skips replayed duplicates and reconnects on a gap', async () => {
    const job = server.addJob('compute-pi');
    for (let i = 1; i <= 4; i++) server.append(job.id, 'partial', { position: i });
    server.append(job.id, 'status', { status: 'completed' });
    const events = server.jobs.get(job.id)?.events ?? [];
    const frames = (...picked: number[]): string => picked.map((seq) => sseFrame(events[seq - 1]!)).join('');
    // A faulty stream: 1, 2, 2 again (skipped), 3, then 5 (4 is missing); the retry serves the rest properly.
    server.sse = (connection) => (connection === 0 ? { raw: frames(1, 2, 2, 3, 5) } : {});
    const client = createClient({ url: server.url, reconnect: FAST });

    const seen = await collect(client.job(job.id).events());

    assert.deepEqual(seqs(seen), range(1, 5));
    assert.equal(server.requestsTo(`/v1/jobs/${job.id}/events`)[1]?.headers['last-event-id'], '3');
  });

  test('takes a seq jump onto a progress event (progress coalesced for a slow client) on the same connection', async () => {
    const job = server.addJob('sleep');
    server.append(job.id, 'status', { status: 'active' });
    for (let i = 1; i <= 4; i++) server.append(job.id, 'progress', { current: i, total: 4 });
    server.append(job.id, 'result', { sleptMs: 1 });
    server.append(job.id, 'status', { status: 'completed' });
    const events = server.jobs.get(job.id)?.events ?? [];
    const frames = (...picked: number[]): string => picked.map((seq) => sseFrame(events[seq - 1]!)).join('');
    // Progress 2..4 were coalesced into 5, the latest.
    server.sse = () => ({ raw: frames(1, 5, 6, 7) });
    const client = createClient({ url: server.url, reconnect: FAST });

    const seen = await collect(client.job(job.id).events());

    assert.deepEqual(seqs(seen), [1, 5, 6, 7]);
    assert.deepEqual(seen[1]?.data, { current: 4, total: 4 });
    assert.equal(server.requestsTo(`/v1/jobs/${job.id}/events`).length, 1, 'no reconnect');
  });

  test('resumes a stream the server closed with a resume frame (a client too slow for it)', async () => {
    const job = server.addJob('compute-pi');
    for (let i = 1; i <= 6; i++) server.append(job.id, 'partial', { position: i });
    server.append(job.id, 'status', { status: 'completed' });
    const events = server.jobs.get(job.id)?.events ?? [];
    const frames = (...picked: number[]): string => picked.map((seq) => sseFrame(events[seq - 1]!)).join('');
    server.sse = (connection) => (connection === 0 ? { raw: `${frames(1, 2, 3)}event: resume\ndata: {"after":3}\n\n` } : {});
    const client = createClient({ url: server.url, reconnect: FAST });

    const seen = await collect(client.job(job.id).events());

    assert.deepEqual(seqs(seen), range(1, 7), 'every event once, in order');
    const connections = server.requestsTo(`/v1/jobs/${job.id}/events`);
    assert.equal(connections.length, 2);
    assert.equal(connections[1]?.headers['last-event-id'], '3');
  });

  test('maps `event: job-error` back to an `error` event', async () => {
    const job = server.addJob('compute-pi');
    server.append(job.id, 'error', { code: 'TASKYARD_ERR_TASK_FAILED', message: 'boom' });
    server.append(job.id, 'status', { status: 'failed' });
    const client = createClient({ url: server.url, reconnect: FAST });

    const seen = await collect(client.job(job.id).events());

    assert.deepEqual(
      seen.map(({ type, data }) => ({ type, data })),
      [
        { type: 'error', data: { code: 'TASKYARD_ERR_TASK_FAILED', message: 'boom' } },
        { type: 'status', data: { status: 'failed' } },
      ],
    );
  });

  test('reopens a stream that falls silent', async () => {
    const job = server.addJob('compute-pi');
    for (let i = 1; i <= 3; i++) server.append(job.id, 'partial', { position: i });
    server.append(job.id, 'status', { status: 'completed' });
    server.sse = (connection) => (connection === 0 ? { stallAfter: 2 } : {});
    const client = createClient({ url: server.url, reconnect: { ...FAST, idleTimeoutMs: 100 } });

    const seen = await collect(client.job(job.id).events());

    assert.deepEqual(seqs(seen), range(1, 4));
    assert.equal(server.requestsTo(`/v1/jobs/${job.id}/events`)[1]?.headers['last-event-id'], '2');
  });

  test('retries a 5xx answer, and gives up on a 404 with a TaskyardHttpError', async () => {
    const job = server.addJob('compute-pi');
    server.append(job.id, 'status', { status: 'completed' });
    let failures = 2;
    server.override = (request, res) => {
      if (!request.url.pathname.endsWith('/events') || failures === 0) return false;
      failures--;
      errorBody(res, 503, 'TASKYARD_ERR_NOT_READY', 'The service is not ready');
      return true;
    };
    const client = createClient({ url: server.url, reconnect: FAST });

    assert.deepEqual(seqs(await collect(client.job(job.id).events())), [1]);
    assert.equal(server.requestsTo(`/v1/jobs/${job.id}/events`).length, 3);

    await assert.rejects(collect(client.job('nope').events()), (error: unknown) => {
      assert.ok(error instanceof TaskyardHttpError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'TASKYARD_ERR_JOB_NOT_FOUND');
      return true;
    });
    assert.equal(server.requestsTo('/v1/jobs/nope/events').length, 1, 'a 404 is not retried');
  });

  test('ends at once when started after the end of a finished job', async () => {
    const job = server.addJob('compute-pi');
    server.append(job.id, 'result', 3);
    server.append(job.id, 'status', { status: 'completed' });
    const client = createClient({ url: server.url, reconnect: FAST });

    assert.deepEqual(await collect(client.job(job.id).events({ after: 2 })), []);
  });

  test('stops, throwing the reason, when its signal aborts', async () => {
    const job = server.addJob('sleep');
    server.append(job.id, 'status', { status: 'active' });
    const client = createClient({ url: server.url, reconnect: FAST });
    const controller = new AbortController();

    await assert.rejects(
      collect(client.job(job.id).events({ signal: controller.signal }), () => controller.abort(new Error('enough'))),
      { message: 'enough' },
    );
  });

  test('closes the connection when the consumer stops early', async () => {
    const job = server.addJob('sleep');
    server.append(job.id, 'status', { status: 'active' });
    server.append(job.id, 'progress', { current: 1 });
    const client = createClient({ url: server.url, reconnect: FAST });

    for await (const event of client.job(job.id).events()) {
      assert.equal(event.seq, 1);
      break;
    }
    assert.equal(await eventually(() => server.liveStreams(job.id) === 0), true, 'the server saw the stream close');
  });
});
