// What `taskyard inspect` reads from a running Taskyard: the public /v1 API, over
// HTTP, through the typed client's transport. Every failure becomes one line that
// says what went wrong where (the CLI prints it and exits 1).
import { decodeJobPage, isRecord } from '../../client/decode.js';
import { TaskyardHttpError } from '../../client/http-error.js';
import { Transport } from '../../client/transport.js';
import type { JobInfo, QueueInfo, ThroughputInfo } from '../../client/types.js';
import type { ListedWorker } from '../../events/worker-info.js';

/** A task as `GET /v1/tasks` shows it (the input schema left out). */
export interface RegisteredTask {
  name: string;
  queue: string;
  description?: string;
  attempts?: number;
  timeoutMs?: number;
  hardTimeoutMs?: number;
}

/** The array under `key` of a JSON object whose items are objects. */
const listOf =
  <T>(key: string) =>
  (body: unknown): T[] => {
    const items = isRecord(body) ? body[key] : undefined;
    if (!Array.isArray(items) || !items.every(isRecord)) throw new TypeError(`${key} is not an array of objects`);
    return items as T[];
  };

const throughput = (body: unknown): ThroughputInfo => {
  listOf('buckets')(body);
  if (!isRecord(body) || typeof body['bucketSeconds'] !== 'number') throw new TypeError('bucketSeconds is not a number');
  return body as unknown as ThroughputInfo;
};

export class InspectApi {
  readonly #transport: Transport;
  readonly #base: string;
  readonly #timeoutMs: number;

  constructor(url: string, timeoutMs: number) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new Error(`--url: "${url}" is not an http:// or https:// URL (e.g. http://127.0.0.1:3000)`);
    }
    this.#base = url.replace(/\/+$/, '');
    this.#transport = new Transport({ url: this.#base });
    this.#timeoutMs = timeoutMs;
  }

  workers(): Promise<ListedWorker[]> {
    return this.#get('/v1/workers', listOf<ListedWorker>('workers'));
  }

  tasks(): Promise<RegisteredTask[]> {
    return this.#get('/v1/tasks', listOf<RegisteredTask>('tasks'));
  }

  queues(): Promise<QueueInfo[]> {
    return this.#get('/v1/queues', listOf<QueueInfo>('queues'));
  }

  throughput(minutes: number, queue: string): Promise<ThroughputInfo> {
    return this.#get('/v1/stats/throughput', throughput, { minutes, queue });
  }

  /** Up to 100 jobs history shows as active, newest first. */
  async activeJobs(): Promise<JobInfo[]> {
    return (await this.#get('/v1/jobs', decodeJobPage, { status: 'active', limit: 100 })).jobs;
  }

  async #get<T>(path: string, decode: (body: unknown) => T, query: Record<string, string | number> = {}): Promise<T> {
    try {
      return await this.#transport.json('GET', path, decode, { query, signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      throw this.#explain(path, error);
    }
  }

  #explain(path: string, error: unknown): Error {
    if (error instanceof TaskyardHttpError) {
      return new Error(
        error.code === 'TASKYARD_ERR_BAD_RESPONSE' ? error.message : `GET ${this.#base}${path} answered ${error.status} (${error.code}): ${error.message}`,
      );
    }
    if (error instanceof Error && error.name === 'TimeoutError') return new Error(`${this.#base} did not answer within ${this.#timeoutMs} ms (--timeout)`);
    // fetch() rejects with a TypeError whose cause is the socket's error (ECONNREFUSED, ENOTFOUND…).
    if (error instanceof TypeError && error.cause !== undefined) {
      const cause = error.cause as { code?: unknown; message?: unknown };
      const why = typeof cause.code === 'string' ? cause.code : String(cause.message ?? error.cause);
      return new Error(`cannot reach Taskyard at ${this.#base} (${why}); is it running there? Set --url or TASKYARD_URL`);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
