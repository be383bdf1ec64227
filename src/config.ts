import { z } from 'zod';
import { parseRedisUrl, REDIS_URL_PATTERN } from './engine/redis-connection.js';
import { TaskyardError } from './errors.js';

const QUEUE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Every setting, with its default. Parsed once at start: flags > environment >
 * defaults, then frozen. A bad value stops start-up with a message naming it.
 */
export const ConfigSchema = z.object({
  /** HTTP port. @defaultValue 3000 (env PORT) */
  port: integer(0, 65535).default(3000),
  /** Interface to bind. @defaultValue 127.0.0.1 (env HOST) */
  host: z.string().min(1).default('127.0.0.1'),
  /** Embedded database directory, or `memory://`. @defaultValue ./.taskyard (env TASKYARD_DATA_DIR) */
  dataDir: z.string().min(1).default('./.taskyard'),
  /** PostgreSQL URL; when set, queues and history live there instead of the embedded PGlite. (env DATABASE_URL) */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /**
   * Redis URL; when set, BullMQ's queues and the live event log run on Redis
   * (history stays in --database, or the embedded PGlite of the API process).
   * `redis://`, `rediss://`, `redis+sentinel://s1:26379,s2:26379/<master>`,
   * `redis+cluster://n1:7000,n2:7001`. (env REDIS_URL)
   */
  redisUrl: z
    .string()
    .regex(REDIS_URL_PATTERN, 'must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL')
    .superRefine((url, ctx) => {
      if (!REDIS_URL_PATTERN.test(url)) return;
      try {
        parseRedisUrl(url);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .optional(),
  /** Prefix of every Redis key and channel Taskyard uses; deployments sharing a Redis differ here. @defaultValue taskyard (env TASKYARD_REDIS_PREFIX) */
  redisPrefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-"').default('taskyard'),
  /**
   * Admission control: past this many jobs waiting in a queue, enqueue answers
   * 429 with Retry-After. @defaultValue 100000 (env TASKYARD_MAX_WAITING)
   */
  maxWaiting: integer(1, 1_000_000_000).default(100_000),
  /** A job's lock lasts this long without renewal; a stalled worker's jobs are re-run after about this long. @defaultValue 30000 */
  lockDurationMs: integer(1000, 3_600_000).default(30_000),
  /** Redis mode: events a dead API instance read but never wrote to history are taken over after this long. @defaultValue 30000 */
  projectorClaimMs: integer(100, 3_600_000).default(30_000),
  /** Modules of tasks to load (paths, .ts or .js). (env TASKYARD_TASKS, comma separated) */
  tasks: z.array(z.string().min(1)).default([]),
  /**
   * Recipes to run (catalog, streaming, pricing, ingestion, library): their tasks, data and routes.
   * `taskyard start` runs them all unless told otherwise. @defaultValue [] (env TASKYARD_RECIPES, comma separated, or "none")
   */
  recipes: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'recipe names are lower-case letters, digits and "-"')).default([]),
  /** Load the built-in example tasks (compute-pi, sleep). @defaultValue true */
  builtins: z.boolean().default(true),
  /** Queues this worker consumes. @defaultValue all queues of the loaded tasks (env TASKYARD_QUEUES) */
  queues: z.array(z.string().regex(QUEUE_NAME, 'queue names are letters, digits, "_" and "-"')).optional(),
  /** Jobs run at once per queue. @defaultValue 4 (env TASKYARD_CONCURRENCY) */
  concurrency: integer(1, 256).default(4),
  /**
   * A sandbox thread is replaced by a fresh one after this many jobs, so memory a
   * task leaks is given back (Celery's max-tasks-per-child). @defaultValue 0, never (env TASKYARD_MAX_JOBS_PER_CHILD)
   */
  maxJobsPerChild: integer(0, 1_000_000_000).default(0),
  /**
   * Nice value of the threads that run task code (Linux; 0-19): CPU-heavy jobs
   * then leave the API and the runtime the CPU they need. @defaultValue 10 (env TASKYARD_JOB_NICE)
   */
  jobNice: integer(0, 19).default(10),
  /**
   * Serve `/metrics` (Prometheus) and `/health` on this port too: for a worker,
   * which has no HTTP API of its own. @defaultValue none (env TASKYARD_METRICS_PORT)
   */
  metricsPort: integer(0, 65535).optional(),
  /** Time a cancelled or timed-out job gets to stop before it is killed. @defaultValue 5000 */
  cancelGraceMs: integer(0, 3_600_000).default(5000),
  /** On SIGTERM, time running jobs get to finish before they are re-queued. @defaultValue 10000 */
  shutdownGraceMs: integer(0, 3_600_000).default(10_000),
  /** Largest accepted request body. @defaultValue 1 MiB */
  bodyLimitBytes: integer(1024, 1024 * 1024 * 1024).default(1024 * 1024),
  /** Progress updates closer together than this are coalesced. @defaultValue 100 */
  progressIntervalMs: integer(0, 60_000).default(100),
  /** @defaultValue info (env LOG_LEVEL) */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Schema of Taskyard's history tables. @defaultValue taskyard */
  historySchema: z.string().regex(SCHEMA_NAME).default('taskyard'),
  /** Schema of BullMQ's queue tables. @defaultValue bullmq */
  engineSchema: z.string().regex(SCHEMA_NAME).default('bullmq'),
});

export type Config = Readonly<z.output<typeof ConfigSchema>>;
export type ConfigInput = z.input<typeof ConfigSchema>;

const list = (value: string | undefined): string[] | undefined =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** Settings read from the environment (the standard names first). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ConfigInput {
  const out: Record<string, unknown> = {
    port: env.PORT,
    host: env.HOST,
    dataDir: env.TASKYARD_DATA_DIR,
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.TASKYARD_REDIS_PREFIX,
    maxWaiting: env.TASKYARD_MAX_WAITING,
    tasks: list(env.TASKYARD_TASKS),
    recipes: env.TASKYARD_RECIPES === 'none' ? [] : list(env.TASKYARD_RECIPES),
    queues: list(env.TASKYARD_QUEUES),
    concurrency: env.TASKYARD_CONCURRENCY,
    maxJobsPerChild: env.TASKYARD_MAX_JOBS_PER_CHILD,
    jobNice: env.TASKYARD_JOB_NICE,
    metricsPort: env.TASKYARD_METRICS_PORT,
    logLevel: env.LOG_LEVEL,
  };
  for (const key of Object.keys(out)) if (out[key] === undefined || out[key] === '') delete out[key];
  return out as ConfigInput;
}

/** Merges flags over environment over defaults, validates, freezes. */
export function loadConfig(flags: Partial<ConfigInput> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const merged: Record<string, unknown> = { ...configFromEnv(env) };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) merged[key] = value;
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`);
    throw new TaskyardError('TASKYARD_ERR_CONFIG', `Invalid configuration — ${problems.join('; ')}`, problems);
  }
  return Object.freeze({ ...parsed.data, tasks: Object.freeze([...parsed.data.tasks]), recipes: Object.freeze([...parsed.data.recipes]) }) as Config;
}
