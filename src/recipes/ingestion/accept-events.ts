import type { SubmitMany } from '../../submit-job.js';
import type { LiveResults, LiveResult } from './live-results.js';
import type { IncomingEvent } from './parse-logs.js';
import type { ProcessEventInput } from './types.js';
import type { CompiledRules } from './validation.js';

/** What `POST /api/logs/{appId}` answers per event. */
export type EventResult = Omit<LiveResult, 'receivedAt'>;

/**
 * The synchronous part of ingestion: validate every event against the app's
 * compiled rules, enqueue one `process-event` per event (invalid ones too, so
 * they are stored with their result) in one bulk submit — all or none, so a
 * refused request (503/429) leaves nothing behind and is simply sent again —
 * and publish the results to the live view. Storing, dedup and mail happen in
 * the background.
 */
export async function acceptEvents(
  deps: { submitMany: SubmitMany; live: LiveResults },
  rules: CompiledRules,
  events: readonly IncomingEvent[],
): Promise<EventResult[]> {
  const receivedAt = new Date().toISOString();
  const checked = events.map((event) => ({ event, result: rules.validate(event.eventName, event.payload) }));
  const submitted = await deps.submitMany(
    checked.map(({ event, result }) => {
      const input: ProcessEventInput = { appId: rules.appId, eventName: event.eventName, payload: event.payload, status: result.status, receivedAt };
      if (result.errors) input.errors = result.errors;
      return { task: 'process-event', input };
    }),
  );
  const results = checked.map(({ event, result }, i): EventResult => ({ eventName: event.eventName, ...result, jobId: submitted[i]!.job.id }));
  // The client's answer does not wait for the live view.
  deps.live.publish(rules.appId, results.map((result) => ({ ...result, receivedAt })));
  return results;
}
