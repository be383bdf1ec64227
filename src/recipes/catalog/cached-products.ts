// Cache-aside reads of the product list, invalidated on every update.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../logger.js';
import type { Cache } from '../../services/cache.js';
import type { Product, ProductQuery, ProductStore } from './products.js';

export interface ProductPage {
  products: Product[];
  /** Where this answer came from: observable cache-aside. */
  source: 'cache' | 'database';
}

export interface CachedProducts {
  list(query: ProductQuery): Promise<ProductPage>;
  /** Drops every cached page (here and in every other process); throws if the cache cannot be reached. */
  invalidate(): Promise<void>;
}

/**
 * Each query has a key of its own, all under one generation: deleting the
 * generation drops every page at once, without knowing which pages exist. A
 * page read from the database before an update is stored under the old
 * generation, which nobody reads any more, so no stale page survives.
 */
const GENERATION_KEY = 'catalog:products:generation';
/** Longer than the pages', so that a generation does not expire under live pages. */
const GENERATION_TTL_FACTOR = 10;
/** At most one warning per this long while the cache is unreachable (a log line per request would flood). */
const WARN_EVERY_MS = 10_000;

const pageKey = (generation: string, { limit, offset, category }: ProductQuery): string =>
  `catalog:products:${generation}:${limit}:${offset}:${category ?? '*'}`;

export function cachedProducts(store: ProductStore, cache: Cache, logger: Logger, options: { ttlMs: number }): CachedProducts {
  let lastWarning = 0;
  const warn = (error: unknown): void => {
    if (Date.now() - lastWarning < WARN_EVERY_MS) return;
    lastWarning = Date.now();
    logger.warn({ err: error }, 'catalog: the cache is unreachable; serving products from the database');
  };

  const generation = async (): Promise<string> => {
    const current = await cache.get<string>(GENERATION_KEY);
    if (current !== undefined) return current;
    const fresh = randomBytes(6).toString('hex');
    // Set before the database is read: an update landing after this deletes it again.
    await cache.set(GENERATION_KEY, fresh, options.ttlMs * GENERATION_TTL_FACTOR);
    return fresh;
  };

  return {
    async list(query) {
      let key: string | undefined;
      try {
        key = pageKey(await generation(), query);
        const cached = await cache.get<Product[]>(key);
        if (cached !== undefined) return { products: cached, source: 'cache' };
      } catch (error) {
        // Redis down: the database can still answer.
        warn(error);
        key = undefined;
      }
      const products = await store.list(query);
      if (key !== undefined) await cache.set(key, products, options.ttlMs).catch(warn);
      return { products, source: 'database' };
    },
    invalidate: () => cache.delete(GENERATION_KEY),
  };
}
