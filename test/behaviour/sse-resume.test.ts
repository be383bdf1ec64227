import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, readSse, waitForTerminal, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';
import { assertWholePiLog, range, sseResumeCase, startSlowPi, streamSse } from './core-cases.js';

for (const backend of BACKENDS) {
  describe(`SSE resume and JSON polling [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, {}, (started) => (ty = started));

    // The tests that only read a finished job share one.
    let finished: Promise<{ id: string; events: string }> | undefined;
    function finishedPi(): Promise<{ id: string; events: string }> {
      finished ??= startSlowPi(ty).then(async (job) => {
        await waitForTerminal(ty.url, job.id);
        return job;
      });
      return finished;
    }

    test('a client that drops and reconnects with Last-Event-ID gets every event exactly once', () => sseResumeCase(ty));

    test('a client that reconnects with ?after= gets every event exactly once', async () => {
      const job = await startSlowPi(ty);
      const first = await streamSse(job.events, {}, 10);
      const lastSeen = first.events[first.events.length - 1]!.id;
      const rest = await streamSse(`${job.events}?after=${lastSeen}`);
      assert.equal(rest.closedByServer, true);
      assert.equal(rest.events[0]?.id, lastSeen + 1);
      assertWholePiLog([...first.events, ...rest.events]);
    });

    test('Last-Event-ID wins over ?after', async () => {
      const job = await finishedPi();
      // The header asks for more than the query: the header is obeyed.
      const lower = await streamSse(`${job.events}?after=40`, { 'last-event-id': '3' });
      assert.equal(lower.events[0]?.id, 4);
      // And for less.
      const higher = await streamSse(`${job.events}?after=3`, { 'last-event-id': '40' });
      assert.equal(higher.events[0]?.id, 41);
      assertWholePiLog([...(await streamSse(job.events, {}, 40)).events, ...higher.events]);
    });

    test('SSE on a finished job replays everything then closes; from its last seq it closes at once', async () => {
      const job = await finishedPi();
      const replay = await readSse(job.events);
      assertWholePiLog(replay);
      const lastSeq = replay[replay.length - 1]!.id;
      const none = await streamSse(job.events, { 'last-event-id': String(lastSeq) });
      assert.equal(none.closedByServer, true);
      assert.deepEqual(none.events, []);
      const noneByQuery = await streamSse(`${job.events}?after=${lastSeq}`);
      assert.equal(noneByQuery.closedByServer, true);
      assert.deepEqual(noneByQuery.events, []);
    });

    test('JSON polling returns exactly the events after ?after, as { jobId, seq, type, data, at }', async () => {
      const job = await finishedPi();
      const all = await getJson(job.events);
      assert.equal(all.status, 200);
      assert.ok(Array.isArray(all.body));
      const n = all.body.length;
      assert.deepEqual(
        all.body.map((e: { seq: number }) => e.seq),
        range(1, n),
      );
      for (const event of all.body) {
        assert.deepEqual(Object.keys(event).sort(), ['at', 'data', 'jobId', 'seq', 'type']);
        assert.equal(event.jobId, job.id);
        assert.ok(!Number.isNaN(Date.parse(event.at)));
      }
      for (const k of [0, 7, n - 1, n, n + 5]) {
        const page = await getJson(`${job.events}?after=${k}`);
        assert.equal(page.status, 200);
        assert.deepEqual(page.body, all.body.slice(k), `after=${k}`);
      }
    });

    test('a bad ?after or Last-Event-ID answers 400', async () => {
      const job = await finishedPi();
      for (const after of ['-1', 'x', '1.5']) {
        for (const accept of ['application/json', 'text/event-stream']) {
          const res = await fetch(`${job.events}?after=${after}`, { headers: { accept } });
          assert.equal(res.status, 400, `after=${after} (${accept})`);
          const body = (await res.json()) as { error: { code: string; message: unknown } };
          assert.equal(body.error.code, 'TASKYARD_ERR_VALIDATION');
          assert.equal(typeof body.error.message, 'string');
        }
      }
      const res = await fetch(job.events, { headers: { accept: 'text/event-stream', 'last-event-id': 'abc' } });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'TASKYARD_ERR_VALIDATION');
    });

    test("a job's error event travels on SSE as job-error", async () => {
      const accepted = await postJson(`${ty.url}/v1/tasks/doomed/jobs`, {});
      assert.equal(accepted.status, 202);
      const { events } = await streamSse(`${ty.url}${accepted.body.links.events}`);
      assert.deepEqual(
        events.map((e) => e.id),
        range(1, events.length),
      );
      assert.deepEqual(
        events.map((e) => e.event),
        ['status', 'status', 'job-error', 'status'],
      );
      assert.equal(events[2]?.data.code, 'TASKYARD_ERR_PERMANENT');
      assert.equal(events[3]?.data.status, 'failed');
      // JSON keeps the event's own name.
      const polled = await getJson(`${ty.url}${accepted.body.links.events}`);
      assert.equal(polled.body[2].type, 'error');
    });
  });
}
