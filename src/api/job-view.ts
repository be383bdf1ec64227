import type { Job } from '../history/jobs.js';

/** A job as the HTTP API shows it. */
export interface JobView {
  id: string;
  task: string;
  queue: string;
  status: string;
  progress: unknown;
  attempts: number;
  maxAttempts: number;
  priority: number;
  input: unknown;
  createdAt: string;
  runAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  cancelRequested: boolean;
  retryOf: string | null;
  result?: unknown;
  error?: unknown;
  links: { self: string; events: string; cancel: string };
}

export function jobLinks(prefix: string, id: string): JobView['links'] {
  const self = `${prefix}/jobs/${encodeURIComponent(id)}`;
  return { self, events: `${self}/events`, cancel: `${self}/cancel` };
}

export function jobView(prefix: string, job: Job): JobView {
  const view: JobView = {
    id: job.id,
    task: job.task,
    queue: job.queue,
    status: job.status,
    progress: job.progress,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
    input: job.input,
    createdAt: job.createdAt,
    runAt: job.runAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    cancelRequested: job.cancelRequested,
    retryOf: job.retryOf,
    links: jobLinks(prefix, job.id),
  };
  if (job.result !== undefined) view.result = job.result;
  if (job.error !== undefined) view.error = job.error;
  return view;
}

/** JSON Schema of JobView, for OpenAPI. */
export const jobViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    task: { type: 'string' },
    queue: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'active', 'retrying', 'completed', 'failed', 'cancelled'] },
    progress: {},
    attempts: { type: 'integer' },
    maxAttempts: { type: 'integer' },
    priority: { type: 'integer' },
    input: {},
    createdAt: { type: 'string', format: 'date-time' },
    runAt: { type: ['string', 'null'] },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    cancelRequested: { type: 'boolean' },
    retryOf: { type: ['string', 'null'], description: 'The job this one retries' },
    result: {},
    error: {},
    links: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
      required: ['code', 'message'],
    },
  },
} as const;
