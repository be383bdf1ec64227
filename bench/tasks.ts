// Tasks the benchmarks run, loaded as a module (so they run sandboxed in worker threads, as users' tasks do).
import { z } from 'zod';
// From its own file, not the package index: every sandbox thread loads this module, and the
// index brings Fastify, BullMQ and pg with it (under tsx ~1 s of CPU per thread instead of ~0.3 s;
// at concurrency 100 that is 100 threads).
import { defineTask } from '../src/tasks/define-task.js';

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
