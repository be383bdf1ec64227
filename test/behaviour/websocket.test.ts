import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, waitForTerminal, type StartedTaskyard, useTaskyard } from '../helpers/taskyard.js';
import { range, Socket, websocketTwoJobsCase } from './core-cases.js';

for (const backend of BACKENDS) {
  describe(`WebSocket [${backend}]`, () => {
    let ty!: StartedTaskyard;
    const sockets: Socket[] = [];
    useTaskyard(backend, {}, (started) => (ty = started));
    after(() => {
      for (const socket of sockets) socket.close();
    });

    async function open(): Promise<Socket> {
      const socket = await Socket.open(ty.url);
      sockets.push(socket);
      return socket;
    }

    async function enqueue(task: string, input: unknown): Promise<string> {
      const accepted = await postJson(`${ty.url}/v1/tasks/${task}/jobs`, { input });
      assert.equal(accepted.status, 202);
      return accepted.body.id;
    }

    test('one socket follows two jobs: each gets seq 1..N, in order, once, to its terminal status', () => websocketTwoJobsCase(ty));

    test('subscribe with `after` skips the events up to it', async () => {
      const id = await enqueue('sleep', { ms: 30, steps: 3 });
      await waitForTerminal(ty.url, id);
      const socket = await open();
      socket.send({ subscribe: id, after: 2 });
      await socket.until(() => socket.hasTerminal(id), 'the terminal status');
      const events = socket.eventsOf(id);
      const total = (await getJson(`${ty.url}/v1/jobs/${id}/events`)).body.length;
      assert.deepEqual(
        events.map((e) => e.seq),
        range(3, total),
      );
    });

    /** Ends a long job (after it has logged more than `seen` events) and waits for its end. */
    async function finishLong(id: string, seen: number): Promise<number> {
      const deadline = Date.now() + 20_000;
      while ((await getJson(`${ty.url}/v1/jobs/${id}/events`)).body.length <= seen) {
        assert.ok(Date.now() < deadline, 'the job goes on producing events');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const res = await fetch(`${ty.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
      assert.equal(res.status, 202);
      assert.equal((await waitForTerminal(ty.url, id)).status, 'cancelled');
      return (await getJson(`${ty.url}/v1/jobs/${id}/events`)).body.length;
    }

    test('unsubscribe stops the messages for that job only', async () => {
      const long = await enqueue('sleep', { ms: 20_000, steps: 200 });
      const short = await enqueue('sleep', { ms: 100, steps: 2 });
      const socket = await open();
      socket.send({ subscribe: long });
      await socket.until(() => socket.eventsOf(long).some((e) => e.type === 'progress'), 'a progress event');
      socket.send({ unsubscribe: long });
      // Messages are handled in order: once the next subscription delivers, the unsubscribe has happened.
      socket.send({ subscribe: short });
      await socket.until(() => socket.hasTerminal(short), 'the other job to finish');
      const seenBefore = socket.eventsOf(long).length;

      const total = await finishLong(long, seenBefore);
      assert.ok(total > seenBefore);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(socket.eventsOf(long).length, seenBefore, 'no message for the unsubscribed job');
      assert.equal(socket.hasTerminal(long), false);
      assert.ok(socket.isOpen);
    });

    test('an unsubscribe sent right after its subscribe is not lost', async () => {
      const long = await enqueue('sleep', { ms: 20_000, steps: 200 });
      const short = await enqueue('sleep', { ms: 50, steps: 1 });
      const socket = await open();
      socket.send({ subscribe: long });
      socket.send({ unsubscribe: long });
      socket.send({ subscribe: short });
      await socket.until(() => socket.hasTerminal(short), 'the other job to finish');
      const seen = socket.eventsOf(long);
      assert.deepEqual(
        seen.map((e) => e.seq),
        range(1, seen.length),
      );
      await finishLong(long, seen.length + 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(socket.eventsOf(long).length, seen.length, 'no message for the unsubscribed job');
      assert.equal(socket.hasTerminal(long), false);
    });

    test('bad messages get an error and the socket stays open', async () => {
      const socket = await open();
      const cases: Array<[unknown, string]> = [
        ['not json', 'TASKYARD_ERR_INVALID_JSON'],
        [{}, 'TASKYARD_ERR_VALIDATION'],
        [{ subscribe: 5 }, 'TASKYARD_ERR_VALIDATION'],
        [{ subscribe: 'x', after: -1 }, 'TASKYARD_ERR_VALIDATION'],
        [{ subscribe: 'x', extra: true }, 'TASKYARD_ERR_VALIDATION'],
        [[1, 2], 'TASKYARD_ERR_VALIDATION'],
        ['null', 'TASKYARD_ERR_VALIDATION'],
      ];
      for (const [message, code] of cases) {
        const pending = socket.nextError();
        socket.send(message);
        const reply = await pending;
        assert.equal(reply.error.code, code, `reply to ${JSON.stringify(message)}`);
        assert.equal(typeof reply.error.message, 'string');
        assert.ok(socket.isOpen, `still open after ${JSON.stringify(message)}`);
      }

      const id = await enqueue('sleep', { ms: 10, steps: 1 });
      socket.send({ subscribe: id });
      await socket.until(() => socket.hasTerminal(id), 'a later valid subscription to work');
      const events = socket.eventsOf(id);
      assert.deepEqual(
        events.map((e) => e.seq),
        range(1, events.length),
      );
    });

    test('subscribing to an unknown job answers TASKYARD_ERR_JOB_NOT_FOUND with the jobId', async () => {
      const socket = await open();
      const pending = socket.nextError();
      socket.send({ subscribe: 'no-such-job' });
      const reply = await pending;
      assert.equal(reply.error.code, 'TASKYARD_ERR_JOB_NOT_FOUND');
      assert.equal(typeof reply.error.message, 'string');
      assert.equal(reply.jobId, 'no-such-job');
      assert.ok(socket.isOpen);
    });
  });
}
