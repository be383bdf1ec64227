import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { isSeq, logEntry, type LogEntry } from './decode.js';
import { TaskyardHttpError } from './http-error.js';

/** Waits for a read; the caller uses it to give up on a silent connection. */
export type ReadGuard = <T>(read: Promise<T>) => Promise<T>;

/**
 * The job-log entries of one SSE response, in the order sent. Keep-alive
 * comments and `retry:` fields are consumed by the parser; an event cut off by
 * a dropped connection is never yielded (the parser is not flushed at the end).
 */
export async function* readSseEntries(
  response: Response,
  jobId: string,
  guard: ReadGuard = (read) => read,
): AsyncGenerator<LogEntry, void, undefined> {
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.startsWith('text/event-stream') || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw TaskyardHttpError.badResponse(response, `expected text/event-stream, got "${contentType}"`);
  }
  const messages: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => messages.push(message) });
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await guard(reader.read());
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
      for (const message of messages.splice(0)) {
        const entry = toLogEntry(message, jobId, response);
        if (entry) yield entry;
      }
    }
  } finally {
    // Closes the connection when the consumer stops early; harmless once it ended.
    reader.cancel().catch(() => undefined);
  }
}

function toLogEntry(message: EventSourceMessage, jobId: string, response: Response): LogEntry | undefined {
  // Only log events carry an id; anything else is not part of the job's log.
  if (!message.id) return undefined;
  const seq = Number(message.id);
  if (!isSeq(seq)) throw TaskyardHttpError.badResponse(response, `event id "${message.id}" is not a seq`);
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    throw TaskyardHttpError.badResponse(response, `the data of event ${seq} is not JSON`);
  }
  // EventSource keeps the `error` name for its own failures, so the server sends a job's as `job-error`.
  const type = message.event === 'job-error' ? 'error' : message.event;
  return logEntry(jobId, seq, type, data, '');
}
