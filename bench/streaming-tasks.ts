// Tasks the streaming benches watch. Events carry no worker timestamp over SSE
// (the log's `at` is when the event was stored, and only the JSON form shows
// it), so each partial carries the worker's clock itself.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
// From its own file, not the package index, so sandbox threads load little (see bench/tasks.ts).
import { defineTask } from '../src/tasks/define-task.js';

/** Emits partials `{ i, sentAt }` (i from 1, sentAt = Date.now() when emitted) at `rate` per second from now. */
async function emitAtRate(updates: number, rate: number, partial: (data: unknown) => void, signal: AbortSignal): Promise<void> {
  const start = performance.now();
  for (let i = 1; i <= updates; i++) {
    // On a fixed schedule from the start, so timer lateness does not add up
    // (a late timer emits the overdue partials back to back).
    const wait = start + ((i - 1) * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal });
    partial({ i, sentAt: Date.now() });
  }
}

/** `updates` partials `{ i, sentAt }` at `rate` per second. */
export const benchTicker = defineTask({
  name: 'bench-ticker',
  description: 'Benchmark task: partials { i, sentAt } at a fixed rate',
  input: z.object({
    updates: z.number().int().min(1).max(1_000_000),
    rate: z.number().min(0.1).max(10_000),
    /** Quiet time before the first update, so every watcher is connected when they start. */
    startDelayMs: z.number().int().min(0).max(60_000).default(0),
  }),
  retry: { attempts: 1 },
  async run({ updates, rate, startDelayMs }, ctx) {
    if (startDelayMs > 0) await sleep(startDelayMs, undefined, { signal: ctx.signal });
    await emitAtRate(updates, rate, (data) => ctx.partial(data), ctx.signal);
    return { updates };
  },
});

/**
 * Like bench-ticker, but starts when the file `gate` exists: connecting
 * thousands of watchers takes a time no fixed delay can know in advance.
 */
export const benchFanout = defineTask({
  name: 'bench-fanout',
  description: 'Benchmark task: waits for a gate file, then partials { i, sentAt } at a fixed rate',
  input: z.object({
    updates: z.number().int().min(1).max(1_000_000),
    rate: z.number().min(0.1).max(10_000),
    gate: z.string().min(1),
  }),
  retry: { attempts: 1 },
  async run({ updates, rate, gate }, ctx) {
    while (!existsSync(gate)) await sleep(5, undefined, { signal: ctx.signal });
    await emitAtRate(updates, rate, (data) => ctx.partial(data), ctx.signal);
    return { updates };
  },
});
