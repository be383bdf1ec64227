// A tiny node:http server that speaks Taskyard's HTTP contract from memory, so
// the client's protocol handling (SSE replay, drops, gaps, errors) can be driven
// precisely. It stands in for the HTTP API only, never for a database.
import { createServer, type IncomingMessage, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isTerminalEvent, type EventType, type JobEvent, type JobStatus } from '../../src/events/types.js';

export interface StoredJob {
  id: string;
  task: string;
  queue: string;
  status: JobStatus;
  createdAt: string;
  result?: unknown;
  error?: { code: string; message: string };
  events: JobEvent[];
}

/** How one SSE connection behaves, after the usual replay starts. */
export interface SseBehaviour {
  /** Cut the TCP connection after this many events (a half-written frame follows them). */
  dropAfter?: number;
  /** Stop writing, keeping the connection open, after this many events. */
  stallAfter?: number;
  /** Write these frames verbatim instead of the replay, then close. */
  raw?: string;
}

export interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** Answers a request before the contract routes do; return true when handled. */
export type Override = (request: SeenRequest, res: ServerResponse) => boolean;

interface Subscriber {
  res: ServerResponse;
  sent: number;
  behaviour: SseBehaviour;
}

export class ContractServer {
  readonly jobs = new Map<string, StoredJob>();
  readonly requests: SeenRequest[] = [];
  /** Behaviour of the n-th SSE connection (0-based), all jobs together. */
  sse: (connection: number) => SseBehaviour = () => ({});
  override: Override | undefined;
  url = '';
  #server: Server = createServer((req, res) => void this.#handle(req, res));
  #sseConnections = 0;
  #subscribers = new Map<string, Set<Subscriber>>();
  #idempotency = new Map<string, string>();
  #nextId = 1;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The requests made to a path, in order. */
  requestsTo(pathname: string): SeenRequest[] {
    return this.requests.filter((request) => request.url.pathname === pathname);
  }

  /** SSE connections open on a job. */
  liveStreams(jobId: string): number {
    return this.#subscribers.get(jobId)?.size ?? 0;
  }

  addJob(task: string, status: JobStatus = 'queued'): StoredJob {
    const id = `job-${this.#nextId++}`;
    const job: StoredJob = { id, task, queue: 'default', status, createdAt: new Date().toISOString(), events: [] };
    this.jobs.set(id, job);
    return job;
  }

  /** Stores an event and streams it to live subscribers; a status event also updates the job. */
  append(jobId: string, type: EventType, data: unknown): JobEvent {
    const job = this.#job(jobId);
    const event: JobEvent = { jobId, seq: job.events.length + 1, type, data, at: new Date().toISOString() };
    job.events.push(event);
    if (type === 'status') job.status = (data as { status: JobStatus }).status;
    if (type === 'result') job.result = data;
    if (type === 'error') job.error = data as { code: string; message: string };
    for (const subscriber of this.#subscribers.get(jobId) ?? []) this.#send(jobId, subscriber, event);
    return event;
  }

  #job(id: string): StoredJob {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no job ${id}`);
    return job;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const request: SeenRequest = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', this.url),
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    this.requests.push(request);
    if (this.override?.(request, res)) return;
    const path = request.url.pathname.split('/').slice(1).map(decodeURIComponent);

    if (request.method === 'POST' && path[0] === 'v1' && path[1] === 'tasks' && path[3] === 'jobs' && path.length === 4) {
      return this.#enqueue(request, path[2] ?? '', res);
    }
    if (request.method === 'GET' && request.url.pathname === '/v1/tasks') {
      return json(res, 200, { tasks: [{ name: 'compute-pi', queue: 'default', description: 'π', inputSchema: { type: 'object' } }] });
    }
    if (request.method === 'GET' && request.url.pathname === '/v1/jobs') {
      const task = request.url.searchParams.get('task');
      const jobs = [...this.jobs.values()].filter((job) => task === null || job.task === task);
      return json(res, 200, { jobs: jobs.map(view), nextCursor: null });
    }
    const job = path[0] === 'v1' && path[1] === 'jobs' ? this.jobs.get(path[2] ?? '') : undefined;
    if (!job) return errorBody(res, 404, 'TASKYARD_ERR_JOB_NOT_FOUND', `No job with id "${path[2]}"`);
    if (request.method === 'GET' && path.length === 3) return json(res, 200, view(job));
    if (request.method === 'POST' && path[3] === 'cancel') {
      if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') {
        return errorBody(res, 409, 'TASKYARD_ERR_JOB_FINISHED', `The job has already finished (${job.status})`, { status: job.status });
      }
      this.append(job.id, 'error', { code: 'TASKYARD_ERR_CANCELLED', message: 'The job was cancelled before it ran' });
      this.append(job.id, 'status', { status: 'cancelled' });
      return json(res, 202, { id: job.id, status: 'cancelled' });
    }
    if (request.method === 'GET' && path[3] === 'events') return this.#events(request, job, res);
    return errorBody(res, 404, 'TASKYARD_ERR_ROUTE_NOT_FOUND', 'No such route');
  }

  #enqueue(request: SeenRequest, task: string, res: ServerResponse): void {
    if (task !== 'compute-pi' && task !== 'sleep') return errorBody(res, 404, 'TASKYARD_ERR_TASK_NOT_FOUND', `No task named "${task}"`);
    const input = (request.body as { input?: { digits?: unknown } } | undefined)?.input;
    if (task === 'compute-pi' && typeof input?.digits !== 'number') {
      return errorBody(res, 400, 'TASKYARD_ERR_VALIDATION', 'input.digits: expected number', { issues: [{ path: ['digits'] }] });
    }
    const key = request.headers['idempotency-key'];
    const known = typeof key === 'string' ? this.#idempotency.get(key) : undefined;
    if (known !== undefined) return json(res, 200, view(this.#job(known)));
    const job = this.addJob(task);
    if (typeof key === 'string') this.#idempotency.set(key, job.id);
    this.append(job.id, 'status', { status: 'queued' });
    json(res, 202, view(job));
  }

  #events(request: SeenRequest, job: StoredJob, res: ServerResponse): void {
    const header = request.headers['last-event-id'];
    const after = typeof header === 'string' && header !== '' ? Number(header) : Number(request.url.searchParams.get('after') ?? 0);
    if ((request.headers.accept ?? '').includes('application/json')) {
      return json(res, 200, job.events.filter((event) => event.seq > after));
    }
    const behaviour = this.sse(this.#sseConnections++);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write('retry: 1000\n\n: keep-alive\n\n');
    if (behaviour.raw !== undefined) {
      res.end(behaviour.raw);
      return;
    }
    const subscriber: Subscriber = { res, sent: 0, behaviour };
    const last = job.events.at(-1);
    if (last && isTerminalEvent(last) && after >= last.seq) {
      res.end();
      return;
    }
    const subscribers = this.#subscribers.get(job.id) ?? new Set();
    this.#subscribers.set(job.id, subscribers);
    subscribers.add(subscriber);
    res.on('close', () => subscribers.delete(subscriber));
    for (const event of job.events) if (event.seq > after) this.#send(job.id, subscriber, event);
  }

  #send(jobId: string, subscriber: Subscriber, event: JobEvent): void {
    const { res, behaviour } = subscriber;
    if (res.writableEnded || res.destroyed) return;
    if (behaviour.stallAfter !== undefined && subscriber.sent >= behaviour.stallAfter) return;
    if (behaviour.dropAfter !== undefined && subscriber.sent >= behaviour.dropAfter) {
      // Half a frame, then a cut: the client must not yield the torn event.
      res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: {"tor`, () => res.socket?.destroy());
      subscriber.behaviour = { stallAfter: 0 };
      return;
    }
    subscriber.sent++;
    res.write(sseFrame(event));
    if (subscriber.sent % 2 === 0) res.write(': keep-alive\n\n');
    if (isTerminalEvent(event)) {
      this.#subscribers.get(jobId)?.delete(subscriber);
      res.end();
    }
  }
}

export function sseFrame(event: Pick<JobEvent, 'seq' | 'type' | 'data'>): string {
  const name = event.type === 'error' ? 'job-error' : event.type;
  return `id: ${event.seq}\nevent: ${name}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

function view(job: StoredJob): Record<string, unknown> {
  const { events: _events, ...rest } = job;
  const self = `/v1/jobs/${job.id}`;
  return {
    ...rest,
    progress: null,
    attempts: 0,
    startedAt: null,
    finishedAt: null,
    links: { self, events: `${self}/events`, cancel: `${self}/cancel` },
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function errorBody(res: ServerResponse, status: number, code: string, message: string, details?: unknown): void {
  json(res, status, { error: details === undefined ? { code, message } : { code, message, details } });
}

/** Polls `check` until it holds or a generous deadline passes. */
export async function eventually(check: () => boolean, deadlineMs = 2000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (!check() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
  return check();
}
