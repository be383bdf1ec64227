// The ingestion service's tasks. They run in sandbox threads: the database and
// the SMTP transport are reached through the worker's `ingestion` host. Each
// result says which process and thread ran it (`worker`), to see queue routing
// and --max-jobs-per-child at work.
import { threadId } from 'node:worker_threads';
import { PermanentError } from '../../errors.js';
import { defineTask } from '../../tasks/define-task.js';
import { payloadHash } from './payload-hash.js';
import {
  BatchStatsInput,
  INGESTION_HOST,
  ProcessEventInput,
  SendEmailInput,
  shouldNotify,
  type IngestionHost,
  type ValidationIssue,
} from './types.js';

const worker = (): { pid: number; threadId: number } => ({ pid: process.pid, threadId });

export const processEvent = defineTask({
  name: 'process-event',
  queue: 'default',
  description: 'Stores a validated event with its payload hash (once per window), then enqueues the mail its app asks for',
  input: ProcessEventInput,
  retry: { attempts: 5, backoff: { type: 'exponential', delayMs: 1000 } },
  // A store is milliseconds; these limits only catch a wedged database or host.
  timeoutMs: 5 * 60_000,
  hardTimeoutMs: 10 * 60_000,
  async run(input, ctx) {
    const host = ctx.host<IngestionHost>(INGESTION_HOST);
    const hash = payloadHash(input.payload);
    const { stored, eventId } = await host.storeEvent({
      appId: input.appId,
      eventName: input.eventName,
      payload: input.payload,
      payloadHash: hash,
      status: input.status,
      errors: input.errors ?? null,
      jobId: ctx.jobId,
      receivedAt: input.receivedAt,
    });
    // A duplicate was notified about when it was first stored.
    let emailJobId: string | undefined;
    if (stored) {
      const rule = await host.notifyRule(input.appId);
      if (shouldNotify(rule, input.eventName, input.status)) {
        // Keyed by this job: a retry of it finds the mail job its earlier run enqueued.
        emailJobId = await host.enqueueEmail(`ingestion:notify:${ctx.jobId}`, {
          to: rule.email,
          subject: `[${input.appId}] ${input.status} event: ${input.eventName}`.slice(0, 300),
          text: notificationText(input, eventId),
        });
      }
    }
    return { stored, eventId, payloadHash: hash, status: input.status, ...(emailJobId ? { emailJobId } : {}), worker: worker() };
  },
});

export const sendEmail = defineTask({
  name: 'send-email',
  queue: 'emails',
  description: 'Sends one mail through SMTP (SMTP_URL), or writes it as an .eml file when none is configured',
  input: SendEmailInput,
  retry: { attempts: 5, backoff: { type: 'exponential', delayMs: 500 } },
  timeoutMs: 2 * 60_000,
  async run(input, ctx) {
    const outcome = await ctx.host<IngestionHost>(INGESTION_HOST).sendMail(input);
    if (!outcome.ok) {
      // 5xx: the server will refuse this message however often it is sent.
      if (outcome.permanent) throw new PermanentError(`The mail server refused the message: ${outcome.message}`);
      throw new Error(`The mail could not be sent (it will be retried): ${outcome.message}`);
    }
    return { to: input.to, messageId: outcome.messageId, accepted: outcome.accepted, response: outcome.response, worker: worker() };
  },
});

export const batchStats = defineTask({
  name: 'batch-stats',
  queue: 'batch',
  description: 'Counts the events of an app (or of every app: "*") per validation status over the last N hours',
  input: BatchStatsInput,
  retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
  timeoutMs: 5 * 60_000,
  async run({ appId, hours }, ctx) {
    const apps = await ctx.host<IngestionHost>(INGESTION_HOST).countEvents(appId === '*' ? null : appId, hours);
    if (appId !== '*' && apps.length === 0) throw new PermanentError(`No app "${appId}"`);
    const counts = { valid: 0, invalid: 0 };
    for (const app of apps) {
      counts.valid += app.counts.valid;
      counts.invalid += app.counts.invalid;
    }
    const total = counts.valid + counts.invalid;
    return appId === '*' ? { appId, hours, counts, total, apps, worker: worker() } : { appId, hours, counts, total, worker: worker() };
  },
});

const MAX_PAYLOAD_IN_MAIL = 4000;

function notificationText(event: ProcessEventInput, eventId: string): string {
  const payload = JSON.stringify(event.payload, null, 2);
  const lines = [
    `App:      ${event.appId}`,
    `Event:    ${event.eventName}`,
    `Status:   ${event.status}`,
    `Received: ${event.receivedAt}`,
    `Event id: ${eventId}`,
  ];
  if (event.errors?.length) lines.push('', 'Problems:', ...event.errors.map((issue: ValidationIssue) => `  ${issue.path || '(payload)'}: ${issue.message}`));
  lines.push('', 'Payload:', payload.length > MAX_PAYLOAD_IN_MAIL ? `${payload.slice(0, MAX_PAYLOAD_IN_MAIL)}\n… (truncated)` : payload);
  return lines.join('\n');
}
