import { TaskyardHttpError } from './http-error.js';

export interface TransportOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:3000`; a path prefix is kept. */
  url: string;
  /** Sent with every request, e.g. `{ authorization: 'Bearer …' }`. @defaultValue `{}` */
  headers?: Record<string, string>;
  /** @defaultValue the global `fetch` */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** Sends requests to one Taskyard server and turns error answers into TaskyardHttpError. */
export class Transport {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;

  constructor(options: TransportOptions) {
    // Fail here, not later: job.events() retries fetch errors, and would retry a bad URL forever.
    if (!URL.canParse(options.url)) throw new TypeError(`Invalid Taskyard URL "${options.url}"`);
    this.#base = options.url.replace(/\/+$/, '');
    this.#headers = { ...options.headers };
    // Looked up per call, not captured, so a test or app can replace the global later.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  url(path: string, query: RequestOptions['query'] = {}): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) params.set(name, String(value));
    }
    const search = params.toString();
    return `${this.#base}${path}${search ? `?${search}` : ''}`;
  }

  /** Sends a request; a non-2xx answer throws a TaskyardHttpError. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.#headers, ...options.headers };
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    const response = await this.#fetch(this.url(path, options.query), init);
    if (!response.ok) throw await TaskyardHttpError.fromResponse(response);
    return response;
  }

  /** Sends a request and narrows its JSON answer with `decode`. */
  async json<T>(method: string, path: string, decode: (body: unknown) => T, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw TaskyardHttpError.badResponse(response, 'the body is not JSON');
    }
    try {
      return decode(body);
    } catch (error) {
      throw TaskyardHttpError.badResponse(response, error instanceof Error ? error.message : String(error));
    }
  }
}
