// The pricing engine's task. Runs in a sandbox thread: the database and the
// lock are reached through the worker's `pricing` host.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTask } from '../../tasks/define-task.js';
import type { PricingHost } from './types.js';

/** The lock outlives a stalled holder by at most this long. */
const LOCK_TTL_MS = 15_000;

export const recalculateAllPrices = defineTask({
  name: 'recalculate-all-prices',
  description: 'Recomputes every base price (list price × market factor) in batches, one run at a time',
  input: z.object({
    /** What asked for it, e.g. a market event id. */
    reason: z.string().max(200).default('manual'),
    /** New market factor for `category` (or every category); omitted: recompute with the current factors. */
    factor: z.number().min(0.1).max(10).optional(),
    category: z.string().regex(/^[a-z]{1,40}$/).optional(),
    batchSize: z.number().int().min(1).max(1000).default(50),
    /** Probability that a batch fails with a transient error (a flaky market-data feed), for demos. */
    failureRate: z.number().min(0).max(1).default(0),
    /** Runs up to this attempt fail on their first batch: a deterministic transient failure. */
    failUntilAttempt: z.number().int().min(0).max(10).default(0),
    /** Pause after each batch (to watch progress, or hold the lock in a test). */
    batchDelayMs: z.number().int().min(0).max(5000).default(0),
  }),
  retry: { attempts: 5, backoff: { type: 'exponential', delayMs: 200 } },
  async run(input, ctx) {
    const pricing = ctx.host<PricingHost>('pricing');
    const token = await pricing.acquireLock(LOCK_TTL_MS);
    if (token === null) {
      ctx.log('another recalculation holds the lock: skipped');
      return { status: 'skipped' as const, reason: 'another recalculation is running (it holds the lock)' };
    }
    try {
      const category = input.category ?? null;
      if (input.factor !== undefined) await pricing.setFactor(category, input.factor);
      const total = await pricing.countProducts(category);
      let done = 0;
      let batches = 0;
      let after = '';
      for (;;) {
        ctx.signal.throwIfAborted();
        if (ctx.attempt <= input.failUntilAttempt || Math.random() < input.failureRate) {
          throw new Error(`transient: the market-data feed timed out (attempt ${ctx.attempt}, batch ${batches + 1})`);
        }
        const batch = await pricing.recalculateBatch(after, input.batchSize, category);
        if (batch.processed === 0 || batch.lastId === null) break;
        after = batch.lastId;
        done += batch.processed;
        batches++;
        ctx.progress({ current: done, total, message: `batch ${batches}: ${done}/${total} products` });
        if (!(await pricing.extendLock(token, LOCK_TTL_MS))) throw new Error('the recalculation lock expired; a retry will start over');
        if (input.batchDelayMs > 0) await sleep(input.batchDelayMs, undefined, { signal: ctx.signal });
      }
      const generation = await pricing.publishPrices();
      return { status: 'completed' as const, reason: input.reason, productsUpdated: done, batches, generation };
    } finally {
      await pricing.releaseLock(token);
    }
  },
});
