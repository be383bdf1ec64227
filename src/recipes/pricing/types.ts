// Shared by the pricing recipe's routes (main thread) and its task (sandbox thread).
import { z } from 'zod';

export const PriceRequest = z.strictObject({
  productId: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, "_" or "-", at most 40'),
  /** A region code: a country (US, GB, IN…) or EU; others get the default discount. */
  userLocation: z.string().regex(/^[A-Za-z]{2}$/, 'a two-letter region code, e.g. US').transform((code) => code.toUpperCase()),
  isPrimeMember: z.boolean(),
});

export const PriceResponse = z.strictObject({
  productId: z.string(),
  finalPrice: z.number().nonnegative(),
  basePrice: z.number().positive(),
  discountRate: z.number().min(0).max(1),
  source: z.enum(['cache', 'database']),
});
export type PriceResponse = z.infer<typeof PriceResponse>;

/** What a market event carries; a recalculation applies `factor` to `category` (or every category). */
export const MarketEvent = z.strictObject({
  eventId: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/).optional(),
  type: z.string().min(1).max(100),
  category: z.string().regex(/^[a-z]{1,40}$/).optional(),
  factor: z.number().min(0.1).max(10),
});

export interface BatchResult {
  processed: number;
  /** Id of the last product processed, or null when none were left. */
  lastId: string | null;
}

/** The functions `recalculate-all-prices` calls in the worker process (`ctx.host('pricing')`). */
export interface PricingHost {
  acquireLock(ttlMs: number): Promise<string | null>;
  extendLock(token: string, ttlMs: number): Promise<boolean>;
  releaseLock(token: string): Promise<void>;
  countProducts(category: string | null): Promise<number>;
  setFactor(category: string | null, factor: number): Promise<void>;
  recalculateBatch(afterId: string, size: number, category: string | null): Promise<BatchResult>;
  /** Makes every cached price stale: the next request reads the database. */
  publishPrices(): Promise<number>;
}

export const RECALCULATION_LOCK = 'pricing:recalculate-all-prices';
