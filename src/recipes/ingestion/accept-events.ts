import type { SubmitJob } from '../../submit-job.js';
import type { LiveResults, LiveResult } from './live-results.js';
import type { IncomingEvent } from './parse-logs.js';
import type { ProcessEventInput } from './types.js';
import type { CompiledRules } from './validation.js';

/** What `POST /api/logs/{appId}` answers per event. */
export type EventResult = Omit<LiveResult, 'receivedAt'>;

/** Enqueues this many at once: a 1,000-event batch must not open 1,000 database queries together. */
const ENQUEUE_CONCURRENCY = 8;

/**
 * The synchronous part of ingestion: validate every event against the app's
 * compiled rules, enqueue one `process-event` per event (invalid ones too, so
 * they are stored with their result), publish the results to the live view.
 * Storing, dedup and mail happen in the background.
 *
 * Should an enqueue fail midway, the request fails (503/429) and the client
 * sends it again: the events enqueued the first time are deduplicated when stored.
 */
export async function acceptEvents(
  deps: { submit: SubmitJob; live: LiveResults },
  rules: CompiledRules,
  events: readonly IncomingEvent[],
): Promise<EventResult[]> {
  const receivedAt = new Date().toISOString();
  const checked = events.map((event) => ({ event, result: rules.validate(event.eventName, event.payload) }));
  const jobIds = await mapLimit(checked, ENQUEUE_CONCURRENCY, async ({ event, result }) => {
    const input: ProcessEventInput = { appId: rules.appId, eventName: event.eventName, payload: event.payload, status: result.status, receivedAt };
    if (result.errors) input.errors = result.errors;
    return (await deps.submit({ task: 'process-event', input })).job.id;
  });
  const results = checked.map(({ event, result }, i): EventResult => ({ eventName: event.eventName, ...result, jobId: jobIds[i]! }));
  // The client's answer does not wait for the live view.
  deps.live.publish(rules.appId, results.map((result) => ({ ...result, receivedAt })));
  return results;
}

/** `fn` over `items`, at most `limit` at a time, results in order; the first failure stops the rest. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  await Promise.all(lanes);
  return results;
}
