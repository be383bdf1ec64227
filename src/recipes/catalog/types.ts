// What the catalog's routes and its task share. Kept apart from recipe.ts so
// that the task module, loaded in sandbox threads, does not pull in Fastify.
import { z } from 'zod';

export const HEAVY_TASK = 'catalog.heavy-process';

/** The name the recipe registers its host functions under (`ctx.host(CATALOG_HOST)`). */
export const CATALOG_HOST = 'catalog';

/** Functions the worker process runs for the heavy task: it cannot reach the database itself. */
export interface CatalogHost {
  countProducts(): Promise<number>;
}

/** Iterations of the CPU loop: about 2 ns each, so the default burns ~30 ms. */
export const DEFAULT_ITERATIONS = 15_000_000;
/** Bounded so that no request can buy more than about half a second of CPU. */
export const MAX_ITERATIONS = 250_000_000;

/** Body of `POST /heavy-process`, and the task's input. */
export const HeavyInput = z.strictObject({
  /** @defaultValue 15 000 000 (~30 ms of CPU) */
  iterations: z.number().int().min(1).max(MAX_ITERATIONS).default(DEFAULT_ITERATIONS),
  /**
   * Fail attempts 1..failTimes with an ordinary (retryable) error: shows a
   * transient failure being retried. @defaultValue 0
   */
  failTimes: z.number().int().min(0).max(10).default(0),
});
export type HeavyInput = z.output<typeof HeavyInput>;

export interface HeavyResult {
  productsCount: number;
  /** Wall time of the attempt that succeeded: CPU loop, query and wait. */
  processingTimeMs: number;
}
