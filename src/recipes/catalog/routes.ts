// The catalog's HTTP routes: the read-heavy product list, its one write, and
// the heavy job's submit and status. (`GET /health` is the platform's own.)
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { findJob } from '../../api/find-job.js';
import { jobLinks } from '../../api/job-view.js';
import { TaskyardError } from '../../errors.js';
import type { JobStatus } from '../../events/types.js';
import type { Job } from '../../history/jobs.js';
import { parseOr400 } from '../../validate.js';
import type { RecipeRouteContext } from '../recipe.js';
import type { CachedProducts } from './cached-products.js';
import type { ProductStore } from './products.js';
import { HEAVY_TASK, HeavyInput } from './types.js';

const TAGS = ['recipe: catalog'];

const Category = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'lower-case letters, digits and "-", at most 40');

const ProductsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  category: Category.optional(),
});

const ProductParams = z.object({ id: z.coerce.number().int().min(1).max(2_147_483_647) });

const ProductPatch = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    category: Category.optional(),
    priceCents: z.number().int().min(0).max(100_000_000).optional(),
    stock: z.number().int().min(0).max(1_000_000_000).optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), 'give at least one field to change');

const JobParams = z.object({ id: z.string().min(1).max(100) });

type StatusName = 'pending' | 'processing' | 'completed' | 'failed';

/** The original system's four statuses, from Taskyard's six. */
const STATUS: Record<JobStatus, StatusName> = {
  queued: 'pending',
  retrying: 'pending',
  active: 'processing',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'failed',
};

/** What `GET /job-status/:id` answers. */
interface StatusView {
  jobId: string;
  status: StatusName;
  attempts: number;
  result?: unknown;
  error?: { code: string; message: string };
}

function statusView(job: Job): StatusView {
  const view: StatusView = { jobId: job.id, status: STATUS[job.status], attempts: job.attempts };
  if (job.status === 'completed') view.result = job.result;
  if (job.error !== undefined && view.status === 'failed') view.error = { code: job.error.code, message: job.error.message };
  return view;
}

export function catalogRoutes(app: FastifyInstance, ctx: RecipeRouteContext, store: ProductStore, products: CachedProducts): void {
  app.get(
    '/products',
    {
      schema: {
        summary: 'List products (cache-aside; `source` says whether the cache answered)',
        tags: TAGS,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, offset: { type: 'integer', minimum: 0 }, category: { type: 'string' } },
        },
      },
    },
    async (request) => {
      const query = parseOr400(ProductsQuery, request.query, 'query');
      const page = await products.list(query);
      return { source: page.source, limit: query.limit, offset: query.offset, products: page.products };
    },
  );

  app.put(
    '/products/:id',
    {
      schema: {
        summary: 'Change a product; cached lists are invalidated before the answer',
        tags: TAGS,
        params: { type: 'object', properties: { id: { type: 'integer' } } },
        body: {
          type: 'object',
          properties: { name: { type: 'string' }, category: { type: 'string' }, priceCents: { type: 'integer' }, stock: { type: 'integer' } },
        },
      },
    },
    async (request) => {
      const { id } = parseOr400(ProductParams, request.params, 'path');
      const patch = parseOr400(ProductPatch, request.body, 'request body');
      const product = await store.update(id, patch);
      if (!product) throw new TaskyardError('TASKYARD_ERR_NOT_FOUND', `No product with id ${id}`);
      try {
        await products.invalidate();
      } catch (error) {
        // Saying 200 here would let the next read serve the old value; PUT is idempotent, so a retry is safe.
        ctx.logger.warn({ err: error }, 'catalog: a product changed but the cache could not be invalidated');
        throw new TaskyardError('TASKYARD_ERR_NOT_READY', 'The change was saved, but cached lists could not be invalidated; repeat the request');
      }
      return product;
    },
  );

  app.post(
    '/heavy-process',
    {
      schema: {
        summary: 'Start a heavy job: 202 with its id at once',
        tags: TAGS,
        body: { type: 'object', properties: { iterations: { type: 'integer', minimum: 1 }, failTimes: { type: 'integer', minimum: 0, maximum: 10 } } },
      },
    },
    async (request, reply) => {
      // Validated here so the errors name the body's fields (the task validates again).
      const input = parseOr400(HeavyInput, request.body === undefined ? {} : request.body, 'request body');
      const { job } = await ctx.submit({ task: HEAVY_TASK, input });
      const statusUrl = `/job-status/${encodeURIComponent(job.id)}`;
      return reply.status(202).header('location', statusUrl).send({ jobId: job.id, status: 'pending', statusUrl, eventsUrl: jobLinks('/v1', job.id).events });
    },
  );

  app.get(
    '/job-status/:id',
    { schema: { summary: 'A heavy job: pending | processing | completed (with result) | failed', tags: TAGS } },
    async (request) => {
      const { id } = parseOr400(JobParams, request.params, 'path');
      const job = await findJob(ctx.api, id);
      // Other tasks' jobs are not the catalog's to show.
      if (!job || job.task !== HEAVY_TASK) throw new TaskyardError('TASKYARD_ERR_JOB_NOT_FOUND', `No heavy-process job with id "${id}"`);
      return statusView(job);
    },
  );
}
