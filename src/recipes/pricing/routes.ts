import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withLoggedEvents } from '../../api/find-job.js';
import { jobView } from '../../api/job-view.js';
import { TaskyardError } from '../../errors.js';
import { parseOr400 } from '../../validate.js';
import type { RecipeRouteContext } from '../recipe.js';
import { publishMarketEvent, recalculationKey } from './market-events.js';
import type { PriceService } from './price-service.js';
import { MarketEvent, PriceRequest } from './types.js';

const EventParams = z.object({ eventId: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'an event id') });

export function pricingRoutes(app: FastifyInstance, ctx: RecipeRouteContext, prices: PriceService): void {
  app.post(
    '/api/v1/price',
    {
      schema: {
        summary: 'Price a product for a buyer (cache-aside)',
        tags: ['recipe: pricing'],
        body: {
          type: 'object',
          required: ['productId', 'userLocation', 'isPrimeMember'],
          properties: { productId: { type: 'string' }, userLocation: { type: 'string' }, isPrimeMember: { type: 'boolean' } },
        },
      },
    },
    async (request) => prices.price(parseOr400(PriceRequest, request.body ?? {}, 'request body')),
  );

  app.post(
    '/api/v1/market-events',
    {
      schema: {
        summary: 'Publish a market event; a worker enqueues one recalculate-all-prices for it',
        tags: ['recipe: pricing'],
        body: {
          type: 'object',
          required: ['type', 'factor'],
          properties: { eventId: { type: 'string' }, type: { type: 'string' }, category: { type: 'string' }, factor: { type: 'number' } },
        },
      },
    },
    async (request, reply) => {
      const event = await publishMarketEvent(ctx, parseOr400(MarketEvent, request.body ?? {}, 'request body'));
      return reply.status(202).send({ eventId: event.eventId, published: true, links: { recalculation: `/api/v1/market-events/${event.eventId}` } });
    },
  );

  app.get(
    '/api/v1/market-events/:eventId',
    { schema: { summary: 'The recalculation a market event started', tags: ['recipe: pricing'] } },
    async (request) => {
      const { eventId } = parseOr400(EventParams, request.params, 'path');
      const job = await withLoggedEvents(ctx.api, await ctx.api.store.byIdempotencyKey(recalculationKey(eventId)));
      // Pub/sub is asynchronous: right after the publish, the worker may not have enqueued it yet.
      if (!job) throw new TaskyardError('TASKYARD_ERR_NOT_FOUND', `No recalculation for market event "${eventId}" (yet)`);
      return { eventId, recalculation: jobView('/v1', job) };
    },
  );
}
