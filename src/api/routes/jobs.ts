import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TaskyardError } from '../../errors.js';
import { JOB_STATUSES, isTerminalStatus } from '../../events/types.js';
import type { ApiDeps } from '../deps.js';
import { errorSchema, jobLinks, jobView, jobViewSchema } from '../job-view.js';
import { parseOr400 } from '../../validate.js';
import { findJob, withLoggedEvents } from '../find-job.js';

const MAX_DELAY_MS = 365 * 24 * 3600 * 1000;

const EnqueueBody = z.strictObject({
  input: z.unknown().optional(),
  priority: z.number().int().min(0).max(100).optional(),
  delayMs: z.number().int().min(0).max(MAX_DELAY_MS).optional(),
  attempts: z.number().int().min(1).max(100).optional(),
});

const IdempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be 1-200 visible ASCII characters');

/** A date or date-time, ISO 8601 (e.g. `2026-12-07`, `2026-12-07T15:30:00Z`). */
const IsoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO 8601 date or date-time')
  .transform((text) => new Date(text))
  .refine((date) => !Number.isNaN(date.getTime()), 'is not a valid date');

const ListQuery = z.strictObject({
  task: z.string().max(100).optional(),
  queue: z.string().max(64).optional(),
  status: z.enum(JOB_STATUSES).optional(),
  q: z.string().trim().min(2, 'must be at least 2 characters').max(200).optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(100).optional(),
});

const JobParams = z.object({ id: z.string().min(1).max(100) });
const TaskParams = z.object({ task: z.string().min(1).max(100) });

export function jobRoutes(app: FastifyInstance, deps: ApiDeps, prefix: string): void {
  app.post(
    '/tasks/:task/jobs',
    {
      schema: {
        summary: 'Enqueue a job',
        description: 'Validates the input against the task schema and answers 202 with the job id at once.',
        tags: ['jobs'],
        params: { type: 'object', properties: { task: { type: 'string' } } },
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string' } } },
        body: {
          type: 'object',
          properties: {
            input: { description: 'Task input, validated by the task schema' },
            priority: { type: 'integer', minimum: 0, maximum: 100, description: 'Higher runs first. Default 0.' },
            delayMs: { type: 'integer', minimum: 0 },
            attempts: { type: 'integer', minimum: 1, maximum: 100 },
          },
        },
        response: { 200: jobViewSchema, 202: jobViewSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 415: errorSchema, 429: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const { task: taskName } = parseOr400(TaskParams, request.params, 'path');
      if (!deps.registry.get(taskName)) throw new TaskyardError('TASKYARD_ERR_TASK_NOT_FOUND', `No task named "${taskName}"`);
      // No body at all is an empty one; `null` is not an object and is refused.
      const body = parseOr400(EnqueueBody, request.body === undefined ? {} : request.body, 'request body');
      const header = request.headers['idempotency-key'];
      const idempotencyKey = header === undefined ? undefined : parseOr400(IdempotencyKey, header, 'Idempotency-Key header', 'Idempotency-Key');
      const submitted = await deps.submit({ task: taskName, input: body.input, priority: body.priority, delayMs: body.delayMs, attempts: body.attempts, idempotencyKey });
      const { job } = submitted;
      if (!submitted.created) return reply.status(200).send(jobView(prefix, (await withLoggedEvents(deps, job)) ?? job));
      return reply
        .status(202)
        .header('location', jobLinks(prefix, job.id).self)
        .send(jobView(prefix, job));
    },
  );

  app.get(
    '/jobs/:id',
    {
      schema: {
        summary: 'Get a job',
        tags: ['jobs'],
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 200: jobViewSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { id } = parseOr400(JobParams, request.params, 'path');
      const job = await findJob(deps, id);
      if (!job) throw new TaskyardError('TASKYARD_ERR_JOB_NOT_FOUND', `No job with id "${id}"`);
      return jobView(prefix, job);
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        summary: 'Search jobs in history, newest first',
        description: 'Filters combine (AND). Pages by cursor: pass the nextCursor of a page to get the next one.',
        tags: ['jobs'],
        querystring: {
          type: 'object',
          properties: {
            task: { type: 'string' },
            queue: { type: 'string' },
            status: { type: 'string', enum: [...JOB_STATUSES] },
            q: { type: 'string', minLength: 2, maxLength: 200, description: 'Text found in the input or the error (case-insensitive)' },
            from: { type: 'string', format: 'date-time', description: 'Created at or after (ISO 8601)' },
            to: { type: 'string', format: 'date-time', description: 'Created before (ISO 8601)' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            cursor: { type: 'string', description: 'nextCursor of the previous page' },
          },
        },
        response: {
          200: { type: 'object', properties: { jobs: { type: 'array', items: jobViewSchema }, nextCursor: { type: ['string', 'null'] } } },
          400: errorSchema,
        },
      },
    },
    async (request) => {
      const query = parseOr400(ListQuery, request.query, 'query');
      const page = await deps.store.list(query);
      return { jobs: page.jobs.map((job) => jobView(prefix, job)), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a job',
        description:
          'A waiting job is removed at once (status cancelled). A running job has its signal aborted; if it does not stop within the grace period it is killed. 409 if it already finished.',
        tags: ['jobs'],
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: {
          202: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' }, cancelRequested: { type: 'boolean' } } },
          404: errorSchema,
          409: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = parseOr400(JobParams, request.params, 'path');
      const job = await withLoggedEvents(deps, await deps.store.requestCancel(id));
      if (!job) throw new TaskyardError('TASKYARD_ERR_JOB_NOT_FOUND', `No job with id "${id}"`);
      if (isTerminalStatus(job.status)) {
        throw new TaskyardError('TASKYARD_ERR_JOB_FINISHED', `The job has already finished (${job.status})`, { status: job.status });
      }
      if (await deps.engine.remove(job.queue, id)) {
        await deps.log.append(id, [
          { type: 'error', data: { code: 'TASKYARD_ERR_CANCELLED', message: 'The job was cancelled before it ran' } },
          { type: 'status', data: { status: 'cancelled' } },
        ]);
        return reply.status(202).send({ id, status: 'cancelled', cancelRequested: true });
      }
      await deps.cancelBus.publish(id);
      return reply.status(202).send({ id, status: job.status, cancelRequested: true });
    },
  );

  app.post(
    '/jobs/:id/retry',
    {
      schema: {
        summary: 'Retry a failed or cancelled job',
        description:
          'Enqueues a new job with the same task, input and priority; its `retryOf` names this one, whose history stays as it was. 409 unless the job failed or was cancelled.',
        tags: ['jobs'],
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 202: jobViewSchema, 404: errorSchema, 409: errorSchema, 429: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = parseOr400(JobParams, request.params, 'path');
      const job = await findJob(deps, id);
      if (!job) throw new TaskyardError('TASKYARD_ERR_JOB_NOT_FOUND', `No job with id "${id}"`);
      if (job.status !== 'failed' && job.status !== 'cancelled') {
        throw new TaskyardError('TASKYARD_ERR_JOB_NOT_RETRYABLE', `Only a failed or cancelled job can be retried; this one is ${job.status}`, { status: job.status });
      }
      if (!deps.registry.get(job.task)) throw new TaskyardError('TASKYARD_ERR_TASK_NOT_FOUND', `No task named "${job.task}" is registered any more`);
      const { job: retry } = await deps.submit({ task: job.task, input: job.input, priority: job.priority, attempts: job.maxAttempts });
      const marked = (await deps.store.markRetryOf(retry.id, job.id)) ?? { ...retry, retryOf: job.id };
      return reply.status(202).header('location', jobLinks(prefix, retry.id).self).send(jobView(prefix, marked));
    },
  );
}
