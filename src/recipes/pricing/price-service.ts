import { TaskyardError } from '../../errors.js';
import type { RecipeContext } from '../recipe.js';
import { PriceStore } from './prices.js';
import { PriceResponse, RECALCULATION_LOCK, type PricingHost } from './types.js';

const PRICE_TTL_MS = 5 * 60_000;
const GENERATION_KEY = 'pricing:generation';
const GENERATION_TTL_MS = 60_000;

/**
 * Prices, cache-aside. A cached price is keyed by the price generation it was
 * computed in; a recalculation bumps the generation (and drops the cached
 * number), so no request is served a price from before it.
 */
export class PriceService {
  readonly store: PriceStore;

  constructor(private readonly ctx: RecipeContext) {
    this.store = new PriceStore(ctx.db, ctx.schema);
  }

  async price(request: { productId: string; userLocation: string; isPrimeMember: boolean }): Promise<PriceResponse> {
    const generation = await this.generation();
    const key = `pricing:price:${generation}:${request.productId}:${request.userLocation}:${request.isPrimeMember ? 1 : 0}`;
    const cached = await this.ctx.cache.get(key).catch(() => undefined);
    if (cached !== undefined) {
      // What comes back from a cache is input like any other: check it before serving it.
      const valid = PriceResponse.safeParse(cached);
      if (valid.success) return { ...valid.data, source: 'cache' };
      this.ctx.logger.warn({ key, issues: valid.error.issues.length }, 'a cached price did not match the response schema: recomputed');
      await this.ctx.cache.delete(key).catch(() => undefined);
    }
    // The two lookups are independent: run them at once.
    const [product, discountRate] = await Promise.all([
      this.store.product(request.productId),
      this.store.discountRate(request.userLocation, request.isPrimeMember),
    ]);
    if (!product) throw new TaskyardError('TASKYARD_ERR_NOT_FOUND', `No product "${request.productId}"`);
    const response: PriceResponse = {
      productId: request.productId,
      basePrice: product.basePriceCents / 100,
      discountRate,
      finalPrice: Math.round(product.basePriceCents * (1 - discountRate)) / 100,
      source: 'database',
    };
    await this.ctx.cache.set(key, response, PRICE_TTL_MS).catch(() => undefined);
    return response;
  }

  private async generation(): Promise<number> {
    const cached = await this.ctx.cache.get<number>(GENERATION_KEY).catch(() => undefined);
    if (typeof cached === 'number') return cached;
    const generation = await this.store.generation();
    await this.ctx.cache.set(GENERATION_KEY, generation, GENERATION_TTL_MS).catch(() => undefined);
    return generation;
  }

  /** The functions `recalculate-all-prices` calls from its sandbox thread. */
  host(): PricingHost {
    const { locks } = this.ctx;
    return {
      acquireLock: (ttlMs) => locks.tryAcquire(RECALCULATION_LOCK, ttlMs),
      extendLock: (token, ttlMs) => locks.extend(RECALCULATION_LOCK, token, ttlMs),
      releaseLock: (token) => locks.release(RECALCULATION_LOCK, token),
      countProducts: (category) => this.store.countProducts(category),
      setFactor: (category, factor) => this.store.setFactor(category, factor),
      recalculateBatch: (afterId, size, category) => this.store.recalculateBatch(afterId, size, category),
      publishPrices: async () => {
        const generation = await this.store.bumpGeneration();
        await this.ctx.cache.delete(GENERATION_KEY);
        return generation;
      },
    };
  }
}
