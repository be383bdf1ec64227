// The behavioural suite's core cases as functions of a started Taskyard: the
// suite runs them once per backend, and deployment shapes outside BACKENDS
// (a Redis Cluster, Sentinel) run the very same assertions.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { getJson, postJson, readSse, waitForTerminal, type StartedTaskyard } from '../helpers/taskyard.js';

export interface SseEvent {
  id: number;
  event: string;
  data: any;
}

/** A job's event as JSON polling returns it. */
export interface PolledEvent {
  jobId: string;
  seq: number;
  type: string;
  data: any;
  at: string;
}

const TERMINAL = ['completed', 'failed', 'cancelled'];

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** The whole JSON log of a job. */
export async function events(url: string, id: string): Promise<PolledEvent[]> {
  const { status, body } = await getJson(`${url}/v1/jobs/${id}/events?limit=10000`);
  assert.equal(status, 200);
  return body as PolledEvent[];
}

/** Polls the job's JSON events until one matches. */
export async function waitForEvent(url: string, id: string, what: string, match: (e: PolledEvent) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await events(url, id);
    if (seen.some(match)) return;
    if (Date.now() > deadline) throw new Error(`job ${id}: no ${what} event`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

export const isActive = (e: PolledEvent): boolean => e.type === 'status' && e.data?.status === 'active';

/** SSE shows a job's `error` event as `job-error`; JSON keeps `error`. */
function sameAsJson(sse: readonly SseEvent[]): Array<{ seq: number; type: string; data: unknown }> {
  return sse.map((e) => ({ seq: e.id, type: e.event === 'job-error' ? 'error' : e.event, data: e.data }));
}

// ── compute-pi ──────────────────────────────────────────────────────────────

/** arctan(1/x) scaled by `scale`, by its Taylor series in BigInt. */
function arccotScaled(x: bigint, scale: bigint): bigint {
  const x2 = x * x;
  let power = scale / x; // scale / x^(2k+1)
  let sum = power;
  for (let k = 1n; power !== 0n; k++) {
    power /= x2;
    const term = power / (2n * k + 1n);
    sum += k % 2n === 1n ? -term : term;
  }
  return sum;
}

/** π's first `count` digits ("3141…"), by Machin's formula: π = 16·arctan(1/5) − 4·arctan(1/239). */
export function machinPi(count: number): string {
  const guard = 20;
  const scale = 10n ** BigInt(count - 1 + guard);
  const pi = 16n * arccotScaled(5n, scale) - 4n * arccotScaled(239n, scale);
  return pi.toString().slice(0, count);
}

/**
 * compute-pi over SSE: 202, the result is π's first `digits` digits, each digit
 * arrives once, in order, as a partial, and the stream is the JSON log.
 */
export async function computePiCase(ty: StartedTaskyard, digits: number): Promise<void> {
  const expected = machinPi(digits);
  assert.equal(expected.slice(0, 6), '314159', 'the reference itself is π');

  const accepted = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits } });
  assert.equal(accepted.status, 202);
  const streamed = await readSse(`${ty.url}${accepted.body.links.events}`);

  assert.deepEqual(
    streamed.map((e) => e.id),
    range(1, streamed.length),
    'seqs start at 1 with no gap',
  );
  const partials = streamed.filter((e) => e.event === 'partial');
  assert.equal(partials.length, digits);
  assert.deepEqual(
    partials.map((e) => e.data.position),
    range(1, digits),
  );
  assert.equal(partials.map((e) => String(e.data.digit)).join(''), expected);

  const statuses = streamed.filter((e) => e.event === 'status').map((e) => e.data.status);
  assert.deepEqual(statuses, ['queued', 'active', 'completed']);
  assert.equal(streamed.find((e) => e.event === 'result')?.data, expected);

  const job = await getJson(`${ty.url}/v1/jobs/${accepted.body.id}`);
  assert.equal(job.body.status, 'completed');
  assert.equal(job.body.result, expected);
  const log = await events(ty.url, accepted.body.id);
  assert.deepEqual(
    sameAsJson(streamed),
    log.map(({ seq, type, data }) => ({ seq, type, data })),
    'SSE delivered exactly the durable log',
  );
}

// ── retries ─────────────────────────────────────────────────────────────────

/** A compact picture of a log: `status:active#1`, `error:CODE`, `result`, `status:retrying#1`. */
export function outline(log: readonly SseEvent[]): string[] {
  return log.map((e) => {
    if (e.event === 'status') return `status:${e.data.status}${e.data.attempt === undefined ? '' : `#${e.data.attempt}`}`;
    if (e.event === 'job-error') return `error:${e.data.code}`;
    return e.event;
  });
}

/** Enqueues a job and reads its whole SSE log (until its terminal status). */
export async function runToEnd(url: string, task: string, body: unknown): Promise<{ id: string; events: SseEvent[] }> {
  const accepted = await postJson(`${url}/v1/tasks/${task}/jobs`, body);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  const streamed = await readSse(`${url}${accepted.body.links.events}`);
  assert.deepEqual(
    streamed.map((e) => e.id),
    range(1, streamed.length),
    'seqs start at 1 with no gap',
  );
  return { id: accepted.body.id, events: streamed };
}

/** `flaky` fails twice, is retried with its 200 ms backoff, and completes on attempt 3. */
export async function retriedUntilSuccessCase(ty: StartedTaskyard): Promise<void> {
  const { id, events: streamed } = await runToEnd(ty.url, 'flaky', { input: { succeedOn: 3 } });
  assert.deepEqual(outline(streamed), [
    'status:queued',
    'status:active#1',
    'error:TASKYARD_ERR_TASK_FAILED',
    'status:retrying#1',
    'status:active#2',
    'error:TASKYARD_ERR_TASK_FAILED',
    'status:retrying#2',
    'status:active#3',
    'result',
    'status:completed#3',
  ]);
  const retrying = streamed.filter((e) => e.event === 'status' && e.data.status === 'retrying');
  assert.deepEqual(
    retrying.map((e) => e.data.delayMs),
    [200, 200],
  );
  const errors = streamed.filter((e) => e.event === 'job-error');
  assert.deepEqual(
    errors.map((e) => [e.data.attempt, e.data.message]),
    [
      [1, 'failing attempt 1'],
      [2, 'failing attempt 2'],
    ],
  );
  assert.deepEqual(streamed.find((e) => e.event === 'result')?.data, { attempt: 3 });

  const job = await getJson(`${ty.url}/v1/jobs/${id}`);
  assert.equal(job.body.status, 'completed');
  assert.equal(job.body.attempts, 3);
  assert.equal(job.body.maxAttempts, 3);
  assert.deepEqual(job.body.result, { attempt: 3 });
  assert.equal(job.body.error, undefined, 'a completed job shows no error');
}

// ── cancel ──────────────────────────────────────────────────────────────────

/** POST /cancel as a user would send it: no body. */
export async function cancelJob(url: string, id: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/jobs/${id}/cancel`, { method: 'POST' });
  return { status: res.status, body: await res.json() };
}

/** The log ends with the cancel error then the cancelled status, and nothing follows. */
export async function assertEndsCancelled(url: string, id: string): Promise<{ message: string }> {
  const job = await waitForTerminal(url, id);
  assert.equal(job.status, 'cancelled');
  assert.equal(job.error?.code, 'TASKYARD_ERR_CANCELLED');
  const log = await events(url, id);
  assert.deepEqual(
    log.map((e) => e.seq),
    range(1, log.length),
    'seqs start at 1 with no gap',
  );
  const [error, status] = log.slice(-2);
  assert.equal(error?.type, 'error');
  assert.equal(error?.data.code, 'TASKYARD_ERR_CANCELLED');
  assert.equal(status?.type, 'status');
  assert.equal(status?.data.status, 'cancelled');
  assert.equal(log.filter((e) => e.type === 'status' && TERMINAL.includes(e.data.status)).length, 1);
  // Nothing is appended after the terminal status (a late step, result or second ending).
  await new Promise((resolve) => setTimeout(resolve, 300));
  const later = await events(url, id);
  assert.equal(later.length, log.length, 'no event follows the terminal status');
  return error!.data;
}

/** A running `sleep` that listens to its signal stops on cancel and ends cancelled. */
export async function cancelRunningCase(ty: StartedTaskyard): Promise<void> {
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
}

// ── SSE resume ──────────────────────────────────────────────────────────────

/**
 * Reads an SSE response frame by frame, as a browser would. Stops after
 * `stopAfter` events (aborting the connection), or when the server closes it.
 */
export async function streamSse(
  url: string,
  headers: Record<string, string> = {},
  stopAfter = Infinity,
): Promise<{ events: SseEvent[]; closedByServer: boolean }> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  assert.equal(res.status, 200, `SSE ${url} answered ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const received: SseEvent[] = [];
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { events: received, closedByServer: true };
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of frame.split('\n')) {
        const match = /^(id|event|data): ?(.*)$/.exec(line);
        if (match) fields[match[1]!] = match[2]!;
      }
      if (fields.id === undefined) continue; // retry: / comments
      received.push({ id: Number(fields.id), event: fields.event ?? 'message', data: JSON.parse(fields.data ?? 'null') });
      if (received.length >= stopAfter) {
        controller.abort();
        await reader.cancel().catch(() => undefined);
        return { events: received, closedByServer: false };
      }
    }
  }
}

/** Starts compute-pi with 60 digits, 20 ms apart: long enough to drop and resume mid-way. */
export async function startSlowPi(ty: StartedTaskyard): Promise<{ id: string; events: string }> {
  const accepted = await postJson(`${ty.url}/v1/tasks/compute-pi/jobs`, { input: { digits: 60, delayMs: 20 } });
  assert.equal(accepted.status, 202);
  return { id: accepted.body.id, events: `${ty.url}${accepted.body.links.events}` };
}

/** A slow-pi log: exactly 1..N, each once, ending with the completed status. */
export function assertWholePiLog(log: readonly SseEvent[]): void {
  assert.deepEqual(
    log.map((e) => e.id),
    range(1, log.length),
    'seqs 1..N, contiguous, no duplicate',
  );
  const last = log[log.length - 1];
  assert.equal(last?.event, 'status');
  assert.equal(last?.data.status, 'completed');
  const result = log.find((e) => e.event === 'result');
  assert.equal(typeof result?.data, 'string');
  assert.equal((result?.data as string).slice(0, 10), '3141592653');
  assert.equal(log.filter((e) => e.event === 'partial').length, 60);
}

/** A client that drops mid-job and reconnects with Last-Event-ID gets every event exactly once. */
export async function sseResumeCase(ty: StartedTaskyard): Promise<void> {
  const job = await startSlowPi(ty);
  const first = await streamSse(job.events, {}, 10);
  assert.equal(first.closedByServer, false);
  const lastSeen = first.events[first.events.length - 1]!.id;
  const rest = await streamSse(job.events, { 'last-event-id': String(lastSeen) });
  assert.equal(rest.closedByServer, true);
  assert.equal(rest.events[0]?.id, lastSeen + 1, 'resumes right after the last event seen');
  assertWholePiLog([...first.events, ...rest.events]);
}

// ── WebSocket ───────────────────────────────────────────────────────────────

/** A WebSocket client of `/v1/ws` that keeps every message it receives, in order. */
export class Socket {
  readonly messages: any[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      this.messages.push(JSON.parse(raw.toString()));
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static open(baseUrl: string): Promise<Socket> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/ws`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Socket(ws)));
      ws.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves once `done(messages)` holds; fails if the socket closes first. */
  async until(done: (messages: any[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.messages)) {
      if (!this.isOpen) throw new Error(`socket closed while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the next error message after those already received. */
  async nextError(): Promise<any> {
    const from = this.messages.length;
    await this.until((m) => m.slice(from).some((x) => x.error), 'an error message');
    return this.messages.slice(from).find((x) => x.error);
  }

  eventsOf(jobId: string): any[] {
    return this.messages.filter((m) => m.jobId === jobId && m.seq !== undefined);
  }

  hasTerminal(jobId: string): boolean {
    return this.eventsOf(jobId).some((m) => m.type === 'status' && TERMINAL.includes(m.data?.status));
  }

  close(): void {
    this.ws.close();
  }
}

async function enqueue(ty: StartedTaskyard, task: string, input: unknown): Promise<string> {
  const accepted = await postJson(`${ty.url}/v1/tasks/${task}/jobs`, { input });
  assert.equal(accepted.status, 202);
  return accepted.body.id;
}

/** One socket follows two jobs: each gets seq 1..N, in order, once, to its terminal status — the durable log exactly. */
export async function websocketTwoJobsCase(ty: StartedTaskyard): Promise<void> {
  const pi = await enqueue(ty, 'compute-pi', { digits: 30, delayMs: 10 });
  const nap = await enqueue(ty, 'sleep', { ms: 300, steps: 3 });
  const socket = await Socket.open(ty.url);
  try {
    socket.send({ subscribe: pi });
    socket.send({ subscribe: nap });
    await socket.until(() => socket.hasTerminal(pi) && socket.hasTerminal(nap), 'both terminal statuses');

    for (const [id, task] of [
      [pi, 'compute-pi'],
      [nap, 'sleep'],
    ] as const) {
      const received = socket.eventsOf(id);
      assert.deepEqual(
        received.map((e) => e.seq),
        range(1, received.length),
        `${task}: seqs 1..N, contiguous, no duplicate`,
      );
      for (const event of received) {
        assert.equal(event.jobId, id);
        assert.equal(typeof event.type, 'string');
        assert.ok('data' in event);
      }
      const last = received[received.length - 1];
      assert.equal(last.type, 'status');
      assert.equal(last.data.status, 'completed');
      // The socket saw what the durable log holds, no more, no less.
      const log = await events(ty.url, id);
      assert.deepEqual(
        received.map(({ seq, type, data }) => ({ seq, type, data })),
        log.map(({ seq, type, data }) => ({ seq, type, data })),
      );
    }
    assert.equal(socket.eventsOf(pi).filter((e) => e.type === 'partial').length, 30);
    assert.deepEqual(socket.eventsOf(nap).find((e) => e.type === 'result')?.data, { sleptMs: 300, steps: 3 });
    assert.equal(socket.messages.filter((m) => m.error).length, 0);
  } finally {
    socket.close();
  }
}
