// Clients that follow one job's events live, as the benches' load: SSE over
// node:http (eventsource-parser for the frames) and WebSocket over `ws`. Both
// resume where they left off when the server closes them for being slow, as
// the API asks (SSE: `event: resume`, then Last-Event-ID; WS: an `overflow`
// message, then a new subscription with `after`).
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser } from 'eventsource-parser';
import WebSocket from 'ws';
import { isTerminalStatus } from '../../src/events/types.js';

/** An event of the job as a client received it. */
export interface LiveEvent {
  seq: number;
  type: string;
  data: unknown;
}

const isTerminal = (event: LiveEvent): boolean => event.type === 'status' && isTerminalStatus((event.data as { status?: string } | null)?.status ?? '');

export interface FollowOptions {
  /** Called for every event, with Date.now() when its frame was parsed. */
  onEvent(event: LiveEvent, receivedAt: number): void;
  /** Stops following (the promise then resolves). */
  signal?: AbortSignal;
}

export interface SseFollowOptions extends FollowOptions {
  agent: http.Agent;
  /** Each request made, e.g. to count them or keep their sockets. */
  onRequest?(request: http.ClientRequest): void;
}

/** One GET; `onText` gets the body as it arrives. Resolves when the response ends. */
export function httpGet(
  url: string,
  options: { agent: http.Agent; headers: Record<string, string>; signal?: AbortSignal; onRequest?: (request: http.ClientRequest) => void },
  onText: (text: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: options.agent, headers: options.headers, ...(options.signal ? { signal: options.signal } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url} answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', onText);
      res.on('end', resolve);
      res.on('error', reject);
    });
    options.onRequest?.(request);
    request.on('error', reject);
  });
}

/**
 * Follows `GET /v1/jobs/:id/events` until the job's terminal status; when the
 * server ends the stream first, reconnects with Last-Event-ID. Resolves with
 * the number of connections it took.
 */
export async function followSse(baseUrl: string, jobId: string, options: SseFollowOptions): Promise<number> {
  let lastId = 0;
  let ended = false;
  let connections = 0;
  const parser = createParser({
    onEvent: (message) => {
      const receivedAt = Date.now();
      if (message.event === 'resume') return;
      const event: LiveEvent = { seq: Number(message.id), type: message.event === 'job-error' ? 'error' : (message.event ?? 'message'), data: JSON.parse(message.data) };
      if (message.id) lastId = event.seq;
      if (isTerminal(event)) ended = true;
      options.onEvent(event, receivedAt);
    },
  });
  const url = `${baseUrl}/v1/jobs/${jobId}/events`;
  while (!ended && !options.signal?.aborted) {
    parser.reset();
    connections++;
    const headers = { accept: 'text/event-stream', 'last-event-id': String(lastId) };
    try {
      await httpGet(url, { agent: options.agent, headers, ...pick(options) }, (text) => parser.feed(text));
    } catch (error) {
      if (options.signal?.aborted) break;
      throw error;
    }
  }
  return connections;
}

const pick = (options: SseFollowOptions): { signal?: AbortSignal; onRequest?: (request: http.ClientRequest) => void } => ({
  ...(options.signal ? { signal: options.signal } : {}),
  ...(options.onRequest ? { onRequest: options.onRequest } : {}),
});

/**
 * Follows one job over its own `GET /v1/ws` socket until the terminal status;
 * after an `overflow` (or any close before the end) subscribes again on a new
 * socket from the last seq received. Resolves with the number of sockets used.
 */
export async function followWs(baseUrl: string, jobId: string, options: FollowOptions): Promise<number> {
  let after = 0;
  let ended = false;
  let connections = 0;
  const url = `${baseUrl.replace(/^http/, 'ws')}/v1/ws`;
  while (!ended && !options.signal?.aborted) {
    if (connections > 0) await sleep(50);
    connections++;
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url);
      const abort = (): void => ws.terminate();
      options.signal?.addEventListener('abort', abort, { once: true });
      ws.on('open', () => ws.send(JSON.stringify({ subscribe: jobId, after })));
      ws.on('message', (raw) => {
        const receivedAt = Date.now();
        const message = JSON.parse(raw.toString()) as { jobId?: string; seq?: number; type?: string; data?: unknown; error?: { message?: string }; resume?: Record<string, number> };
        if (message.type === 'overflow') {
          // The close (1013) follows; resume from what the server says it sent.
          after = message.resume?.[jobId] ?? after;
          return;
        }
        if (message.error !== undefined) {
          ws.terminate();
          reject(new Error(`WS error: ${message.error.message ?? JSON.stringify(message.error)}`));
          return;
        }
        if (message.jobId !== jobId || typeof message.seq !== 'number') return;
        const event: LiveEvent = { seq: message.seq, type: message.type ?? '', data: message.data };
        after = event.seq;
        if (isTerminal(event)) ended = true;
        options.onEvent(event, receivedAt);
        if (ended) ws.close();
      });
      ws.on('close', () => {
        options.signal?.removeEventListener('abort', abort);
        resolve();
      });
      ws.on('error', (error) => {
        if (options.signal?.aborted) resolve();
        else reject(error);
      });
    });
  }
  return connections;
}
