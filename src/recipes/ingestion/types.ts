// Shared by the ingestion recipe's routes (main thread) and its tasks (sandbox threads).
import { z } from 'zod';

export const INGESTION_HOST = 'ingestion';

export const AppId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lower-case letters, digits, "_" or "-", at most 40');
export const EventName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'letters, digits, ".", "_", ":" or "-", at most 100');

export type EventStatus = 'valid' | 'invalid';

/** One reason an event is invalid: a JSON Pointer into the payload and what is wrong there. */
export const ValidationIssue = z.strictObject({ path: z.string().max(500), message: z.string().max(1000) });
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/** Who is mailed about which events: those of status `when` (and, if given, only these event names). */
export const NotifyRule = z.strictObject({
  email: z.email().max(254),
  when: z.enum(['invalid', 'valid', 'always']).default('invalid'),
  events: z.array(EventName).min(1).max(100).optional(),
});
export type NotifyRule = z.output<typeof NotifyRule>;

export function shouldNotify(rule: NotifyRule | null, eventName: string, status: EventStatus): rule is NotifyRule {
  if (!rule) return false;
  if (rule.events && !rule.events.includes(eventName)) return false;
  return rule.when === 'always' || rule.when === status;
}

const MAX_EVENTS_PER_APP = 100;

/** `POST /api/apps`: an app, the events it accepts with a JSON Schema each, and its notify rule. */
export const AppDefinition = z
  .strictObject({
    id: AppId,
    name: z.string().trim().min(1).max(200).optional(),
    events: z
      .record(EventName, z.record(z.string(), z.unknown()))
      .refine((events) => Object.keys(events).length >= 1, 'give at least one event with its JSON Schema')
      .refine((events) => Object.keys(events).length <= MAX_EVENTS_PER_APP, `at most ${MAX_EVENTS_PER_APP} events per app`),
    notify: NotifyRule.nullable().optional(),
  })
  .superRefine((app, ctx) => {
    for (const name of app.notify?.events ?? []) {
      if (!Object.hasOwn(app.events, name)) ctx.addIssue({ code: 'custom', path: ['notify', 'events'], message: `"${name}" is not one of the app's events` });
    }
  });
export type AppDefinition = z.output<typeof AppDefinition>;

export const ProcessEventInput = z.strictObject({
  appId: AppId,
  eventName: z.string().min(1).max(200),
  payload: z.record(z.string(), z.unknown()),
  /** The result the client was given: stored as is, even if the app's rules change before the job runs. */
  status: z.enum(['valid', 'invalid']),
  errors: z.array(ValidationIssue).max(20).optional(),
  /** When the API accepted it; the dedup window is measured on this, not on when a worker got to it. */
  receivedAt: z.iso.datetime(),
});
export type ProcessEventInput = z.output<typeof ProcessEventInput>;

export const SendEmailInput = z.strictObject({
  to: z.email().max(254),
  subject: z.string().min(1).max(300),
  text: z.string().max(100_000),
});
export type SendEmailInput = z.output<typeof SendEmailInput>;

export const BatchStatsInput = z.strictObject({
  /** One app, or `*` for every app. */
  appId: z.union([AppId, z.literal('*')]),
  hours: z.number().int().min(1).max(168).default(24),
});

export interface StoreEventRequest {
  appId: string;
  eventName: string;
  payload: Record<string, unknown>;
  payloadHash: string;
  status: EventStatus;
  errors: ValidationIssue[] | null;
  jobId: string;
  receivedAt: string;
}

export interface StoreEventOutcome {
  /** False when the same payload was stored for this app and event within the window. */
  stored: boolean;
  /** The stored event: this one, or the earlier one it duplicates. */
  eventId: string;
}

/** What sending a mail came to; a failure says whether trying again can help. */
export type MailOutcome =
  | { ok: true; messageId: string; accepted: string[]; response: string }
  | { ok: false; permanent: boolean; message: string; responseCode?: number };

export interface AppCounts {
  appId: string;
  counts: Record<EventStatus, number>;
  total: number;
}

/** The functions the ingestion tasks call in the worker process (`ctx.host('ingestion')`). */
export interface IngestionHost {
  storeEvent(request: StoreEventRequest): Promise<StoreEventOutcome>;
  /** The app's notify rule, or null (no rule, or no such app). */
  notifyRule(appId: string): Promise<NotifyRule | null>;
  /** Enqueues `send-email` once per key (a retried caller gets the same job); resolves to its job id. */
  enqueueEmail(key: string, email: SendEmailInput): Promise<string>;
  sendMail(email: SendEmailInput): Promise<MailOutcome>;
  /** Events per status received in the last `hours`, per app (all apps when appId is null). */
  countEvents(appId: string | null, hours: number): Promise<AppCounts[]>;
}
