import type { FastifyInstance } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { TaskyardError } from '../../errors.js';
import { JOB_STATUSES, isTerminalStatus } from '../../events/types.js';
import type { ApiDeps } from '../deps.js';
import { errorSchema, jobLinks, jobView, jobViewSchema } from '../job-view.js';
import { storableProblem } from '../../history/storable.js';
import { parseOr400 } from '../validate.js';
import { Admission } from '../admission.js';
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

const ListQuery = z.strictObject({
  task: z.string().max(100).optional(),
  queue: z.string().max(64).optional(),
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(100).optional(),
});

const JobParams = z.object({ id: z.string().min(1).max(100) });
const TaskParams = z.object({ task: z.string().min(1).max(100) });

export function jobRoutes(app: FastifyInstance, deps: ApiDeps, prefix: string): void {
  const admission = new Admission(deps.engine, deps.maxWaiting);
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
      const task = deps.registry.get(taskName);
      if (!task) throw new TaskyardError('TASKYARD_ERR_TASK_NOT_FOUND', `No task named "${taskName}"`);
      // No body at all is an empty one; `null` is not an object and is refused.
      const body = parseOr400(EnqueueBody, request.body === undefined ? {} : request.body, 'request body');
      const input = body.input ?? {};
      const problem = storableProblem(input);
      if (problem) throw new TaskyardError('TASKYARD_ERR_VALIDATION', `Invalid input: ${problem}`, [{ path: 'input', message: problem }]);
      parseOr400(task.input, input, 'input', 'input');
      const header = request.headers['idempotency-key'];
      const idempotencyKey = header === undefined ? undefined : parseOr400(IdempotencyKey, header, 'Idempotency-Key header', 'Idempotency-Key');

      const attempts = body.attempts ?? task.retry.attempts;
      const delayMs = body.delayMs ?? 0;
      // Before anything is stored: a refused job leaves no trace.
      await admission.admit(task.queue).catch((error: unknown) => {
        throw error instanceof TaskyardError ? error : new TaskyardError('TASKYARD_ERR_NOT_READY', 'The queue engine is unreachable; try again shortly');
      });
      const { job, created, sameInput } = await deps.store.insert({
        id: uuidv7(),
        task: task.name,
        queue: task.queue,
        input,
        priority: body.priority ?? 0,
        maxAttempts: attempts,
        idempotencyKey,
        runAt: delayMs > 0 ? new Date(Date.now() + delayMs) : undefined,
      });
      if (!created) {
        if (job.task !== task.name) {
          throw new TaskyardError('TASKYARD_ERR_IDEMPOTENCY_CONFLICT', `The idempotency key was used for a job of task "${job.task}"`);
        }
        if (!sameInput) {
          throw new TaskyardError('TASKYARD_ERR_IDEMPOTENCY_CONFLICT', 'The idempotency key was used with a different input', { jobId: job.id });
        }
        return reply.status(200).send(jobView(prefix, (await withLoggedEvents(deps, job)) ?? job));
      }
      try {
        await deps.engine.enqueue({
          queue: task.queue,
          jobId: job.id,
          task: task.name,
          input,
          priority: job.priority,
          delayMs,
          attempts,
          backoff: task.retry.backoff,
        });
      } catch (error) {
        request.log.warn({ err: error, jobId: job.id }, 'enqueue failed');
        // The client is told the job was not accepted: it must not linger in history
        // (nor hold its idempotency key). Should even that fail, it stays as failed.
        await deps.store.delete(job.id).catch(() =>
          deps.log
            .append(job.id, [
              { type: 'error', data: { code: 'TASKYARD_ERR_ENQUEUE_FAILED', message: 'The job could not be enqueued' } },
              { type: 'status', data: { status: 'failed' } },
            ])
            .catch(() => undefined),
        );
        throw new TaskyardError('TASKYARD_ERR_ENQUEUE_FAILED', 'The queue engine is unreachable; the job was not accepted. Try again shortly.');
      }
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
        summary: 'List jobs, newest first',
        tags: ['jobs'],
        querystring: {
          type: 'object',
          properties: {
            task: { type: 'string' },
            queue: { type: 'string' },
            status: { type: 'string', enum: [...JOB_STATUSES] },
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
}
