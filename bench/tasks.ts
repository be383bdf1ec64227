// Tasks the benchmarks run, loaded as a module (so they run sandboxed in worker threads, as users' tasks do).
import { z } from 'zod';
import { defineTask } from '../src/index.js';

/** Does nothing but report progress once: what is measured is Taskyard's own cost per job. */
export const benchNoop = defineTask({
  name: 'bench-noop',
  description: 'Benchmark task: one progress update, then returns',
  input: z.object({ progress: z.boolean().default(true) }),
  retry: { attempts: 1 },
  run({ progress }, ctx) {
    if (progress) ctx.progress({ current: 1, total: 1 });
    return { ok: true };
  },
});
