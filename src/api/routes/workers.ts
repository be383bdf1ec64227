import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { readThroughput } from '../../history/throughput.js';
import { parseOr400 } from '../../validate.js';
import type { ApiDeps } from '../deps.js';
import { errorSchema } from '../job-view.js';

const workerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    host: { type: 'string' },
    pid: { type: 'integer' },
    queues: { type: 'array', items: { type: 'string' } },
    concurrency: { type: 'integer', description: 'Jobs at once, per queue' },
    active: {
      type: 'array',
      items: { type: 'object', properties: { jobId: { type: 'string' }, task: { type: 'string' }, queue: { type: 'string' }, startedAt: { type: 'string' } } },
    },
    startedAt: { type: 'string', format: 'date-time' },
    heartbeatAt: { type: 'string', format: 'date-time' },
    alive: { type: 'boolean', description: 'Heard from within the last 15 s' },
  },
} as const;

const ThroughputQuery = z.strictObject({
  minutes: z.coerce.number().int().min(1).max(1440).default(15),
  queue: z.string().min(1).max(64).optional(),
});

/** Who is working, and how fast: the dashboard's overview. */
export function workerRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/workers',
    {
      schema: {
        summary: 'Worker processes, from their heartbeats (every 2 s), with the jobs each holds',
        description: 'A worker silent for 15 s shows alive: false; after 5 minutes it is forgotten. A worker that stops cleanly leaves at once.',
        tags: ['workers'],
        response: { 200: { type: 'object', properties: { workers: { type: 'array', items: workerSchema } } } },
      },
    },
    async () => ({ workers: await deps.workers.list() }),
  );

  app.get(
    '/stats/throughput',
    {
      schema: {
        summary: 'Jobs finished per bucket of time (60 buckets) over the last N minutes, of every queue or of one',
        description: 'jobs/s of a bucket = its count / bucketSeconds. Every bucket of the range is present, oldest first.',
        tags: ['workers'],
        querystring: {
          type: 'object',
          properties: {
            minutes: { type: 'integer', minimum: 1, maximum: 1440, default: 15 },
            queue: { type: 'string', minLength: 1, maxLength: 64, description: 'Only the jobs of this queue (default: every queue)' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              bucketSeconds: { type: 'integer' },
              from: { type: 'string', format: 'date-time' },
              to: { type: 'string', format: 'date-time' },
              buckets: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { at: { type: 'string' }, completed: { type: 'integer' }, failed: { type: 'integer' }, cancelled: { type: 'integer' } },
                },
              },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (request) => {
      const { minutes, queue } = parseOr400(ThroughputQuery, request.query, 'query');
      return readThroughput(deps.store.db, deps.store.schema, minutes, queue);
    },
  );
}
