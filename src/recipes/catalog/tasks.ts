// The catalog's one task, run in a sandbox thread: it reaches the database
// through the host functions the recipe registers (see recipe.ts).
import { setImmediate as yieldToEvents, setTimeout as sleep } from 'node:timers/promises';
import { defineTask } from '../../tasks/define-task.js';
import { CATALOG_HOST, HEAVY_TASK, HeavyInput, type CatalogHost, type HeavyResult } from './types.js';

/** The "I/O" part of the job: a call to a slow downstream, modelled as a wait. */
const WAIT_MS = 500;
/** Iterations between two looks at ctx.signal (~2 ms of CPU). */
const SLICE = 1_000_000;

/**
 * A deterministic numeric loop (the logistic map): the same input burns the
 * same CPU on every run. Yields between slices so a cancel can arrive.
 */
async function burnCpu(iterations: number, signal: AbortSignal): Promise<number> {
  let x = 0.5;
  let sum = 0;
  for (let done = 0; done < iterations; done += SLICE) {
    const end = Math.min(iterations, done + SLICE);
    for (let i = done; i < end; i++) {
      x = 3.9 * x * (1 - x);
      sum += Math.sqrt(x * i);
    }
    await yieldToEvents();
    signal.throwIfAborted();
  }
  return sum;
}

export const heavyProcess = defineTask({
  name: HEAVY_TASK,
  description: 'Burns CPU, counts the products, waits ~0.5 s; retried on a transient failure',
  input: HeavyInput,
  retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 200 } },
  // About a second at the largest input: far past that, something is stuck (a host call that never answers).
  timeoutMs: 30_000,
  async run({ iterations, failTimes }, ctx): Promise<HeavyResult> {
    const startedAt = performance.now();
    const sum = await burnCpu(iterations, ctx.signal);
    // Using the sum keeps the loop from being optimised away, and catches a broken loop.
    if (!Number.isFinite(sum)) throw new Error('the CPU loop diverged');
    const productsCount = await ctx.host<CatalogHost>(CATALOG_HOST).countProducts();
    if (ctx.attempt <= failTimes) {
      // An ordinary Error, not PermanentError: Taskyard retries it after the backoff.
      throw new Error(`Transient failure on attempt ${ctx.attempt} (asked to fail ${failTimes} time(s))`);
    }
    await sleep(WAIT_MS, undefined, { signal: ctx.signal });
    return { productsCount, processingTimeMs: Math.round(performance.now() - startedAt) };
  },
});
