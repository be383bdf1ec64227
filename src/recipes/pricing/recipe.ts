import path from 'node:path';
import { defineRecipe } from '../recipe.js';
import { listenToMarketEvents } from './market-events.js';
import { PriceService } from './price-service.js';
import { pricingRoutes } from './routes.js';

const extension = path.extname(new URL(import.meta.url).pathname);

/**
 * A pricing engine: cache-aside price lookups, a batch recalculation that only
 * one worker runs at a time (a distributed lock), and market events that
 * trigger it through a listener in the worker processes.
 */
export const pricing = defineRecipe({
  name: 'pricing',
  description: 'POST /api/v1/price (cache-aside), a locked batch recalculation, market events → jobs',
  tasks: new URL(`./tasks${extension}`, import.meta.url).href,
  migrations: new URL('./migrations/', import.meta.url),
  hosts: (ctx) => ({ pricing: new PriceService(ctx).host() }),
  routes: (app, ctx) => pricingRoutes(app, ctx, new PriceService(ctx)),
  worker: (ctx) => listenToMarketEvents(ctx),
});
