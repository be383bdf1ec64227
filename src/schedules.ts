import { z } from 'zod';
import type { Engine, EngineWorker } from './engine/engine.js';
import { TaskyardError } from './errors.js';
import type { Logger } from './logger.js';
import type { SubmitJob } from './submit-job.js';
import type { TaskRegistry } from './tasks/registry.js';

/** A job submitted on a clock: every `everyMs`, or on a cron pattern. */
export interface Schedule {
  /** Unique; declaring the same id again updates it. */
  id: string;
  task: string;
  input?: unknown;
  /** Every so many milliseconds (at least 1000)… */
  everyMs?: number;
  /** …or on a cron pattern (`*\/15 * * * *`: every 15 minutes). */
  cron?: string;
}

/** BullMQ's job schedulers put their ticks here; a tick becomes a job through the normal submit path. */
export const SCHEDULES_QUEUE = 'taskyard-schedules';

const ScheduleSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'letters, digits, ".", "_", ":" and "-"'),
    task: z.string().min(1),
    input: z.unknown().optional(),
    everyMs: z.number().int().min(1000).max(366 * 24 * 3600 * 1000).optional(),
    cron: z.string().min(9).max(100).optional(),
  })
  .refine((s) => (s.everyMs === undefined) !== (s.cron === undefined), 'give exactly one of everyMs and cron');

interface Tick {
  schedule: string;
  task: string;
  input: unknown;
}

/**
 * Schedules run on BullMQ's job schedulers (one tick per period across every
 * process, kept in the queue backend, so nothing is lost on a restart). A tick
 * is turned into the real job by `submit`, keyed by the tick's id: a tick
 * retried after a crash never makes a second job.
 */
export class Schedules {
  constructor(
    private readonly engine: Engine,
    private readonly registry: TaskRegistry,
    private readonly submit: SubmitJob,
    private readonly logger: Logger,
  ) {}

  /** Checks every schedule (task known, input valid) before anything is written. */
  validate(schedules: readonly Schedule[]): Schedule[] {
    const seen = new Set<string>();
    return schedules.map((given) => {
      const parsed = ScheduleSchema.safeParse(given);
      const where = `schedule "${(given as { id?: unknown }).id ?? '?'}"`;
      if (!parsed.success) throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — ${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'schedule'}: ${i.message}`).join('; ')}`);
      const schedule = parsed.data as Schedule;
      if (seen.has(schedule.id)) throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — two schedules are named "${schedule.id}"`);
      seen.add(schedule.id);
      const task = this.registry.get(schedule.task);
      if (!task) throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — ${where}: no task named "${schedule.task}"`);
      const input = task.input.safeParse(schedule.input ?? {});
      if (!input.success) throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — ${where}: input: ${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return schedule;
    });
  }

  /** Writes the schedules to the engine and removes the ones no longer declared. */
  async declare(schedules: readonly Schedule[]): Promise<void> {
    const declared = new Set(schedules.map((s) => s.id));
    for (const schedule of schedules) {
      const tick: Tick = { schedule: schedule.id, task: schedule.task, input: schedule.input ?? {} };
      await this.engine.upsertSchedule(SCHEDULES_QUEUE, { id: schedule.id, every: schedule.everyMs, pattern: schedule.cron, name: 'tick', data: { input: tick } });
    }
    for (const existing of await this.engine.schedules(SCHEDULES_QUEUE)) {
      if (!declared.has(existing.id)) {
        await this.engine.removeSchedule(SCHEDULES_QUEUE, existing.id);
        this.logger.info({ schedule: existing.id }, 'removed a schedule no longer declared');
      }
    }
  }

  /** Turns ticks into jobs; runs in every process that can submit. */
  consumeTicks(): EngineWorker {
    return this.engine.createWorker(
      SCHEDULES_QUEUE,
      async (job) => {
        const tick = job.input as Tick;
        const { job: submitted, created } = await this.submit({ task: tick.task, input: tick.input, idempotencyKey: `schedule:${job.id}` });
        if (created) this.logger.info({ schedule: tick.schedule, jobId: submitted.id }, 'scheduled job submitted');
        return { jobId: submitted.id };
      },
      { concurrency: 1 },
    );
  }
}
