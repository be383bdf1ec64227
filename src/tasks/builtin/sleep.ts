import { setTimeout as sleepFor } from 'node:timers/promises';
import { z } from 'zod';
import { defineTask } from '../define-task.js';

/**
 * Waits `ms` in `steps` steps, reporting progress after each. With `busy: true`
 * it spins the CPU instead and ignores cancellation — the kind of task only a
 * hard kill can stop.
 */
export const sleep = defineTask({
  name: 'sleep',
  description: 'Waits, reporting progress per step; useful to try cancel and time limits',
  input: z.object({
    ms: z.number().int().min(0).max(3_600_000),
    steps: z.number().int().min(1).max(10_000).default(10),
    busy: z.boolean().default(false),
  }),
  retry: { attempts: 1 },
  async run({ ms, steps, busy }, ctx) {
    const stepMs = ms / steps;
    for (let step = 1; step <= steps; step++) {
      if (busy) {
        const until = Date.now() + stepMs;
        while (Date.now() < until) {
          // spin: deliberately deaf to ctx.signal
        }
      } else {
        await sleepFor(stepMs, undefined, { signal: ctx.signal });
      }
      ctx.progress({ current: step, total: steps, message: `step ${step} of ${steps}` });
    }
    return { sleptMs: ms, steps };
  },
});
