import path from 'node:path';
import { defineRecipe } from '../recipe.js';
import { cachedProducts } from './cached-products.js';
import { productStore } from './products.js';
import { catalogRoutes } from './routes.js';
import { CATALOG_HOST, type CatalogHost } from './types.js';

const extension = path.extname(new URL(import.meta.url).pathname);

/** How long a cached product page lives if no update drops it first. */
const CACHE_TTL_MS = 30_000;

/**
 * A read-heavy API beside a heavy job, under an SLA: a product list served
 * cache-aside (Redis, or an in-process LRU) and invalidated on every change,
 * and a CPU + database + wait job that answers 202 at once and is polled.
 */
export const catalog = defineRecipe({
  name: 'catalog',
  description: 'cache-aside product list, a heavy CPU + database job, an SLA bench (catalog-sla)',
  tasks: new URL(`./tasks${extension}`, import.meta.url).href,
  migrations: new URL('./migrations/', import.meta.url),
  hosts: (ctx) => {
    const store = productStore(ctx.db, ctx.schema);
    const host: CatalogHost = { countProducts: () => store.count() };
    return { [CATALOG_HOST]: host };
  },
  routes: (app, ctx) => {
    const store = productStore(ctx.db, ctx.schema);
    catalogRoutes(app, ctx, store, cachedProducts(store, ctx.cache, ctx.logger, { ttlMs: CACHE_TTL_MS }));
  },
  tryPath: '/products',
});
