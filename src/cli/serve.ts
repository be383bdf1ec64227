// `taskyard start|api|worker`: builds Taskyard from the parsed flags, starts it,
// prints where it runs, and stops it on SIGTERM/SIGINT. Loaded only by those commands.
import { redactRedisUrl } from '../engine/redis-connection.js';
import { RECIPE_NAMES } from '../recipes/recipe-names.js';
import { createTaskyard, type Role, type TaskyardOptions } from '../taskyard.js';

export type { Role } from '../taskyard.js';

export interface Flags {
  port?: number;
  host?: string;
  dataDir?: string;
  database?: string;
  tasks?: string[];
  queues?: string[];
  concurrency?: number;
  builtins?: boolean;
  logLevel?: string;
  shutdownGrace?: number;
  historySchema?: string;
  engineSchema?: string;
  redis?: string;
  redisPrefix?: string;
  maxWaiting?: number;
  lockDuration?: number;
  projectorClaim?: number;
  maxJobsPerChild?: number;
  metricsPort?: number;
  /** A list, or false for --no-recipes. */
  recipes?: string[] | false;
}

export async function run(role: Role, flags: Flags): Promise<void> {
  const options: TaskyardOptions = { role };
  if (flags.port !== undefined) options.port = flags.port;
  if (flags.host !== undefined) options.host = flags.host;
  if (flags.dataDir !== undefined) options.dataDir = flags.dataDir;
  if (flags.database !== undefined) options.databaseUrl = flags.database;
  if (flags.tasks !== undefined) options.tasks = flags.tasks;
  if (flags.queues !== undefined) options.queues = flags.queues;
  if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
  if (flags.builtins === false) options.builtins = false;
  if (flags.logLevel !== undefined) options.logLevel = flags.logLevel as NonNullable<TaskyardOptions['logLevel']>;
  if (flags.shutdownGrace !== undefined) options.shutdownGraceMs = flags.shutdownGrace;
  if (flags.historySchema !== undefined) options.historySchema = flags.historySchema;
  if (flags.engineSchema !== undefined) options.engineSchema = flags.engineSchema;
  if (flags.redis !== undefined) options.redisUrl = flags.redis;
  if (flags.redisPrefix !== undefined) options.redisPrefix = flags.redisPrefix;
  if (flags.maxWaiting !== undefined) options.maxWaiting = flags.maxWaiting;
  if (flags.lockDuration !== undefined) options.lockDurationMs = flags.lockDuration;
  if (flags.projectorClaim !== undefined) options.projectorClaimMs = flags.projectorClaim;
  if (flags.maxJobsPerChild !== undefined) options.maxJobsPerChild = flags.maxJobsPerChild;
  if (flags.metricsPort !== undefined) options.metricsPort = flags.metricsPort;
  // The CLI runs every recipe unless told otherwise (flag, then TASKYARD_RECIPES); the library runs none by default.
  if (flags.recipes === false) options.recipes = [];
  else if (flags.recipes !== undefined) options.recipes = flags.recipes;
  else if (!process.env.TASKYARD_RECIPES) options.recipes = [...RECIPE_NAMES];

  const startedAt = Date.now();
  // OpenTelemetry when the standard OTEL_* variables ask for it (the SDK is loaded only then).
  const { startTracingFromEnv } = await import('../observability/tracing.js');
  const stopTracing = await startTracingFromEnv(`taskyard-${role === 'all' ? 'start' : role}`);
  const taskyard = createTaskyard(options);
  let signals = 0;
  const shutdown = (signal: string): void => {
    if (++signals > 1) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`${signal}: stopping (running jobs get ${taskyard.config.shutdownGraceMs} ms to finish; ${signal} again to force)\n`);
    taskyard
      .stop()
      .then(() => stopTracing?.())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`error while stopping: ${String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await taskyard.start();
  const history = taskyard.config.databaseUrl ? `PostgreSQL ${redact(taskyard.config.databaseUrl)}` : `embedded PGlite in ${taskyard.config.dataDir}`;
  const where = taskyard.config.redisUrl
    ? `queues and live events on Redis ${redactRedisUrl(taskyard.config.redisUrl)}${role === 'worker' ? '' : `; history in ${history}`}`
    : history;
  const tasks = taskyard.registry.all().map((task) => task.name).join(', ');
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  if (taskyard.url) {
    process.stdout.write(`\nTaskyard${role === 'api' ? ' API' : ''} is ready at ${taskyard.url}  (${seconds} s)\n`);
    process.stdout.write(`  storage: ${where}\n  tasks:   ${tasks || '(none)'}\n`);
    process.stdout.write(`  try:     curl -X POST ${taskyard.url}/v1/tasks/compute-pi/jobs -H 'content-type: application/json' -d '{"input":{"digits":50}}'\n`);
    process.stdout.write(`  docs:    ${taskyard.url}/docs\n`);
    for (const recipe of taskyard.recipes) {
      process.stdout.write(`  recipe:  ${recipe.name.padEnd(10)} ${recipe.tryPath ? `${taskyard.url}${recipe.tryPath}  ` : ''}${recipe.description}\n`);
    }
    process.stdout.write('\n');
  } else {
    const worker = taskyard.worker;
    process.stdout.write(`\nTaskyard worker ${process.pid} is running  (${seconds} s)\n  storage: ${where}\n  queues:  ${worker?.queues.join(', ')} × ${worker?.concurrency}\n  tasks:   ${tasks}\n\n`);
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
