import { isTerminalEvent, isTerminalStatus, type JobEvent } from '../events/types.js';
import { decodeEvents, decodeJob, type LogEntry } from './decode.js';
import { TaskyardHttpError } from './http-error.js';
import { readSseEntries, type ReadGuard } from './sse.js';
import type { Transport } from './transport.js';
import type { EventsOptions } from './types.js';

/** How `job.events()` reconnects after a dropped stream. */
export interface ReconnectOptions {
  /** Wait before the first reconnect; it doubles after each failed try. @defaultValue 100 */
  minDelayMs?: number;
  /** The longest wait between tries. @defaultValue 2000 */
  maxDelayMs?: number;
  /**
   * A stream silent this long is presumed dead and reopened. The server sends a
   * keep-alive every 15 s, so only a half-open connection stays silent longer.
   * @defaultValue 45000
   */
  idleTimeoutMs?: number;
}

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = Object.freeze({
  minDelayMs: 100,
  maxDelayMs: 2000,
  idleTimeoutMs: 45_000,
});

/** Page size when catching up on a finished job by polling. */
const POLL_LIMIT = 1000;

/**
 * A job's events after `options.after`, each exactly once and in seq order,
 * ending after the terminal status event. A dropped or silent stream is reopened
 * from the last seq yielded, with backoff, until `options.signal` aborts (a
 * server that closes a slow client's stream with a `resume` frame is one such
 * drop). A `progress` event may skip seqs: the server coalesced older progress
 * for a client that fell behind. An event of another type that skips a seq
 * counts as a drop. A 4xx answer (other than 408/429) or a malformed stream
 * ends the iteration with a TaskyardHttpError.
 */
export async function* followEvents(
  transport: Transport,
  jobId: string,
  options: EventsOptions = {},
  reconnect: Required<ReconnectOptions> = DEFAULT_RECONNECT,
): AsyncGenerator<JobEvent, void, undefined> {
  const { signal } = options;
  let last = options.after ?? 0;
  let delay = reconnect.minDelayMs;
  const eventsPath = `/v1/jobs/${encodeURIComponent(jobId)}/events`;

  for (;;) {
    signal?.throwIfAborted();
    let progressed = false;
    let cleanEnd = false;
    try {
      const entries = openStream(transport, eventsPath, jobId, last, signal, reconnect.idleTimeoutMs);
      for await (const entry of entries) {
        if (entry.seq <= last) continue; // a replay of what was already yielded
        // A slow client's stream coalesces progress: a jump onto a progress event
        // skipped only older progress. Any other jump is a gap: reopen from the last seq.
        if (entry.seq !== last + 1 && entry.event?.type !== 'progress') break;
        last = entry.seq;
        progressed = true;
        delay = reconnect.minDelayMs;
        // An event of a type this client does not know keeps its seq but is not shown.
        if (entry.event === undefined) continue;
        yield entry.event;
        if (isTerminalEvent(entry.event)) return;
      }
      cleanEnd = true;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!isTransient(error)) throw error;
    }

    // The server closes at once, sending nothing, when the job finished at or
    // before `last`: ask whether that is so instead of reconnecting forever.
    if (cleanEnd && !progressed) {
      let rest: LogEntry[] | undefined;
      try {
        rest = await restOfFinishedLog(transport, jobId, last, signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (!isTransient(error)) throw error;
      }
      if (rest !== undefined) {
        for (const entry of rest) {
          last = entry.seq;
          if (entry.event === undefined) continue;
          yield entry.event;
          if (isTerminalEvent(entry.event)) return;
        }
        // Nothing after `last` in a finished log: the caller started at its end.
        if (rest.length === 0) return;
      }
    }

    await pause(delay, signal);
    delay = Math.min(delay * 2, reconnect.maxDelayMs);
  }
}

/** One SSE connection's log entries after `after`, given up on when silent for `idleTimeoutMs`. */
async function* openStream(
  transport: Transport,
  path: string,
  jobId: string,
  after: number,
  signal: AbortSignal | undefined,
  idleTimeoutMs: number,
): AsyncGenerator<LogEntry, void, undefined> {
  const connection = new AbortController();
  const forward = (): void => connection.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  // Only time spent waiting on the network counts, not time the consumer spends on an event.
  const guard: ReadGuard = async (read) => {
    const timer = setTimeout(() => connection.abort(new Error(`No data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    try {
      return await read;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const response = await guard(
      transport.send('GET', path, {
        query: { after },
        // The server prefers Last-Event-ID; `after` serves proxies that strip the header.
        headers: { accept: 'text/event-stream', 'last-event-id': String(after) },
        signal: connection.signal,
      }),
    );
    yield* readSseEntries(response, jobId, guard);
  } finally {
    signal?.removeEventListener('abort', forward);
    connection.abort();
  }
}

/**
 * For a finished job, the entries after `last` that follow it without a gap,
 * read by polling; `undefined` while the job still runs.
 */
async function restOfFinishedLog(
  transport: Transport,
  jobId: string,
  last: number,
  signal: AbortSignal | undefined,
): Promise<LogEntry[] | undefined> {
  const jobPath = `/v1/jobs/${encodeURIComponent(jobId)}`;
  const job = await transport.json('GET', jobPath, decodeJob, { signal });
  if (!isTerminalStatus(job.status)) return undefined;
  const rest: LogEntry[] = [];
  let expected = last + 1;
  for (;;) {
    const page = await transport.json('GET', `${jobPath}/events`, (body) => decodeEvents(body, jobId), {
      query: { after: expected - 1, limit: POLL_LIMIT },
      signal,
    });
    const before = rest.length;
    for (const entry of page) {
      if (entry.seq < expected) continue;
      if (entry.seq !== expected) return rest;
      rest.push(entry);
      expected++;
    }
    if (page.length < POLL_LIMIT || rest.length === before) return rest;
  }
}

/** Worth retrying: network failures, timeouts, 5xx, 408 and 429. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof TaskyardHttpError)) return true;
  if (error.code === 'TASKYARD_ERR_BAD_RESPONSE') return false;
  return error.status >= 500 || error.status === 408 || error.status === 429;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
