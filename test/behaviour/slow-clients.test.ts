import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { createClient, type JobEvent } from '../../src/client/index.js';
import {
  BACKENDS,
  getJson,
  parseSse,
  postJson,
  readSse,
  waitForTerminal,
  type StartedTaskyard,
  useTaskyard,
} from '../helpers/taskyard.js';

/** ~12.5 MiB of partials: more than the server's hard limit plus what the kernel's socket buffers take. */
const FLOOD = { count: 200, size: 64 * 1024 };
/** ~8 MiB of progress alone. */
const PROGRESS_FLOOD = { count: 2000, size: 4 * 1024, kind: 'progress' };
/**
 * The jobs start this much later, so the client is following live when the
 * flood comes (a replay of a finished job goes at the client's pace instead).
 */
const START_DELAY_MS = 500;

interface LoggedEvent {
  seq: number;
  type: string;
  data: any;
}

/** What a client that does not read gets once it reads again: every frame of the stream, in order. */
interface StalledSse {
  frames: Array<{ id?: number; event: string; data: any }>;
  events: LoggedEvent[];
}

/**
 * Opens an SSE stream, reads its first event, then does not read it (its
 * socket is paused) until `whileStalled` resolves; then reads the whole stream
 * until the server ends it.
 */
async function stalledSse(url: string, whileStalled: () => Promise<unknown>): Promise<StalledSse> {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(url, { headers: { accept: 'text/event-stream' }, agent: false }, resolve).on('error', reject);
  });
  assert.equal(res.statusCode, 200);
  res.setEncoding('utf8');
  let text = '';
  res.on('data', (chunk: string) => (text += chunk));
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (!text.includes('\nid: 1\n') && !text.startsWith('id: 1\n')) return;
      res.off('data', check);
      res.pause();
      resolve();
    };
    res.on('data', check);
  });
  await whileStalled();
  res.resume();
  await new Promise((resolve, reject) => res.on('end', resolve).on('error', reject));

  const frames: StalledSse['frames'] = [];
  for (const block of text.split('\n\n')) {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const match = /^(id|event|data): ?(.*)$/.exec(line);
      if (match) fields[match[1]!] = match[2]!;
    }
    if (fields.event === undefined) continue; // retry: and keep-alive comments
    frames.push({ ...(fields.id === undefined ? {} : { id: Number(fields.id) }), event: fields.event, data: JSON.parse(fields.data ?? 'null') });
  }
  const events = parseSse(text).map(({ id, event, data }) => ({ seq: id, type: event === 'job-error' ? 'error' : event, data }));
  return { frames, events };
}

for (const backend of BACKENDS) {
  describe(`slow live clients [${backend}]`, () => {
    let ty!: StartedTaskyard;
    // Every progress update reaches the log, so only the live stream can coalesce them.
    useTaskyard(backend, { progressIntervalMs: 0 }, (started) => (ty = started));

    async function enqueue(input: unknown): Promise<string> {
      const accepted = await postJson(`${ty.url}/v1/tasks/chatty/jobs`, { input, delayMs: START_DELAY_MS });
      assert.equal(accepted.status, 202);
      return accepted.body.id;
    }

    async function logOf(id: string): Promise<LoggedEvent[]> {
      const { body } = await getJson(`${ty.url}/v1/jobs/${id}/events?limit=10000`);
      return body.map(({ seq, type, data }: LoggedEvent) => ({ seq, type, data }));
    }

    test('SSE: a client that stops reading is closed with a resume frame; resuming from it yields the rest exactly once', async () => {
      const id = await enqueue(FLOOD);
      const events = `${ty.url}/v1/jobs/${id}/events`;
      const first = await stalledSse(events, () => waitForTerminal(ty.url, id, 120_000));
      const log = await logOf(id);

      const last = first.frames[first.frames.length - 1];
      assert.equal(last?.event, 'resume', 'the stream ends with a resume frame');
      assert.equal(last?.id, undefined, 'the resume frame is not a log event');
      const lastSeq = first.events[first.events.length - 1]?.seq ?? 0;
      assert.deepEqual(last?.data, { after: lastSeq }, 'it names the last event delivered');
      assert.ok(lastSeq < log.length, 'the stream was cut before the end of the job');
      assert.deepEqual(first.events, log.slice(0, lastSeq), 'what came before the cut is the log, in order, none skipped');

      const rest = await readSse(events, { 'last-event-id': String(lastSeq) });
      const resumed = rest.map(({ id: seq, event, data }) => ({ seq, type: event, data }));
      assert.deepEqual([...first.events, ...resumed], log, 'together: every event once, in order');
      assert.equal(log[log.length - 1]?.data.status, 'completed');
      assert.equal(log.filter((e) => e.type === 'partial').length, FLOOD.count);
    });

    test('SSE: a slow client of a job that only reports progress gets coalesced progress and the whole ending', async () => {
      const id = await enqueue(PROGRESS_FLOOD);
      const { frames, events } = await stalledSse(`${ty.url}/v1/jobs/${id}/events`, () => waitForTerminal(ty.url, id, 120_000));
      const log = await logOf(id);

      assert.equal(frames.filter((f) => f.event === 'resume').length, 0, 'not cut off');
      assert.deepEqual(events[events.length - 1], log[log.length - 1], 'ends with the terminal status');
      assert.equal(events[events.length - 1]?.data.status, 'completed');
      const sent = events.filter((e) => e.type === 'progress');
      const logged = log.filter((e) => e.type === 'progress');
      assert.equal(logged.length, PROGRESS_FLOOD.count);
      assert.ok(sent.length < logged.length, `fewer progress events than the log holds (${sent.length} < ${logged.length})`);
      assert.deepEqual(sent[sent.length - 1], logged[logged.length - 1], 'the latest progress always arrives');
      // Only progress is ever left out: every other event arrives, in order, as logged.
      assert.deepEqual(
        events.filter((e) => e.type !== 'progress'),
        log.filter((e) => e.type !== 'progress'),
      );
      const bySeq = new Map(log.map((e) => [e.seq, e]));
      for (const event of events) assert.deepEqual(event, bySeq.get(event.seq), `event ${event.seq} is the logged one`);
      assert.deepEqual(
        events.map((e) => e.seq),
        [...new Set(events.map((e) => e.seq))].sort((a, b) => a - b),
        'seqs only go up',
      );
    });

    test('WebSocket: a client that stops reading gets an overflow message with its resume point and code 1013', async () => {
      const id = await enqueue(FLOOD);
      const ws = new WebSocket(`${ty.url.replace(/^http/, 'ws')}/v1/ws`);
      const messages: any[] = [];
      let onMessage = (): void => undefined;
      ws.on('message', (raw) => {
        messages.push(JSON.parse(raw.toString()));
        onMessage();
      });
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ subscribe: id }));
      await new Promise<void>((resolve) => (onMessage = resolve));
      ws.pause();
      await waitForTerminal(ty.url, id, 120_000);
      // Ends with the close, or (a failure) with the job's last event on an open socket.
      const ended = new Promise<void>((resolve) => (onMessage = () => messages.at(-1)?.data?.status === 'completed' && resolve()));
      ws.resume();
      await Promise.race([closed, ended]);
      assert.equal(ws.readyState, WebSocket.CLOSED, 'the server closed the socket');
      assert.equal(await closed, 1013);
      const log = await logOf(id);

      const overflow = messages[messages.length - 1];
      assert.equal(overflow?.type, 'overflow', 'the last message says the socket overflowed');
      const delivered: LoggedEvent[] = messages.slice(0, -1).map(({ seq, type, data }) => ({ seq, type, data }));
      const lastSeq = delivered[delivered.length - 1]?.seq ?? 0;
      assert.deepEqual(overflow.resume, { [id]: lastSeq }, 'with the last seq delivered for each subscription');
      assert.ok(lastSeq < log.length, 'the socket was closed before the end of the job');
      assert.deepEqual(delivered, log.slice(0, lastSeq), 'what came before is the log, in order, none skipped');

      // Resubscribing after the resume point brings the rest.
      const again = new WebSocket(`${ty.url.replace(/^http/, 'ws')}/v1/ws`);
      const rest: LoggedEvent[] = [];
      const finished = new Promise<void>((resolve) => {
        again.on('message', (raw) => {
          const { seq, type, data } = JSON.parse(raw.toString());
          rest.push({ seq, type, data });
          if (type === 'status' && data.status === 'completed') resolve();
        });
      });
      await new Promise((resolve, reject) => again.once('open', resolve).once('error', reject));
      again.send(JSON.stringify({ subscribe: id, after: lastSeq }));
      await finished;
      again.close();
      assert.deepEqual([...delivered, ...rest], log, 'together: every event once, in order');
    });

    test('the typed client, read slowly, still yields every partial once and the result', async () => {
      const id = await enqueue(FLOOD);
      const client = createClient({ url: ty.url, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
      const iterator = client.job(id).events()[Symbol.asyncIterator]();
      const seen: JobEvent[] = [];
      const first = await iterator.next();
      if (!first.done) seen.push(first.value);
      // The consumer stalls while the job floods its stream: the server cuts it off, the client resumes.
      await waitForTerminal(ty.url, id, 120_000);
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) seen.push(next.value);

      const log = await logOf(id);
      assert.deepEqual(
        seen.map(({ seq, type, data }) => ({ seq, type, data })),
        log,
      );
    });
  });
}
