import { z } from 'zod';
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
  /** Modules of tasks to load (paths, .ts or .js). (env TASKYARD_TASKS, comma separated) */
  tasks: z.array(z.string().min(1)).default([]),
  /** Load the built-in example tasks (compute-pi, sleep). @defaultValue true */
  builtins: z.boolean().default(true),
  /** Queues this worker consumes. @defaultValue all queues of the loaded tasks (env TASKYARD_QUEUES) */
  queues: z.array(z.string().regex(QUEUE_NAME, 'queue names are letters, digits, "_" and "-"')).optional(),
  /** Jobs run at once per queue. @defaultValue 4 (env TASKYARD_CONCURRENCY) */
  concurrency: integer(1, 256).default(4),
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
    tasks: list(env.TASKYARD_TASKS),
    queues: list(env.TASKYARD_QUEUES),
    concurrency: env.TASKYARD_CONCURRENCY,
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
  return Object.freeze({ ...parsed.data, tasks: Object.freeze([...parsed.data.tasks]) }) as Config;
}
