import { Command, InvalidArgumentError, Option } from 'commander';
import { TaskyardError } from '../errors.js';
import { redactRedisUrl } from '../engine/redis-connection.js';
import { RECIPE_NAMES } from '../recipes/load-recipes.js';
import { createTaskyard, type Role, type TaskyardOptions } from '../taskyard.js';

const int = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};
const list = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

interface Flags {
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

function serverOptions(command: Command): Command {
  return command
    .addOption(new Option('--data-dir <dir>', 'embedded database directory, or memory:// (env TASKYARD_DATA_DIR)'))
    .addOption(new Option('--database <url>', 'PostgreSQL URL instead of the embedded database (env DATABASE_URL)'))
    .addOption(new Option('--redis <url>', 'Redis for queues and live events; redis://, rediss://, redis+sentinel://…/<master>, redis+cluster://… (env REDIS_URL)'))
    .addOption(new Option('--redis-prefix <prefix>', 'prefix of Taskyard\'s Redis keys (env TASKYARD_REDIS_PREFIX; default taskyard)'))
    .addOption(new Option('--lock-duration <ms>', 'a stalled worker\'s jobs are re-run after about this long (default 30000)').argParser(int('lock-duration')))
    .addOption(new Option('--tasks <modules>', 'module(s) exporting tasks, .ts or .js; repeat or comma-separate (env TASKYARD_TASKS)').argParser(list))
    .addOption(new Option('--no-builtins', 'do not load the built-in example tasks'))
    .addOption(new Option('--recipes <names>', `recipes to run; default all: ${RECIPE_NAMES.join(', ')} (env TASKYARD_RECIPES)`).argParser(list))
    .addOption(new Option('--no-recipes', 'run no recipes'))
    .addOption(new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL)'))
    // Hidden: lets several deployments (or test runs) share one database, each in its own schemas.
    .addOption(new Option('--history-schema <name>', 'schema of the history tables (default taskyard)').hideHelp())
    .addOption(new Option('--engine-schema <name>', 'schema of the queue tables (default bullmq)').hideHelp());
}

function httpOptions(command: Command): Command {
  return command
    .addOption(new Option('-p, --port <port>', 'HTTP port (env PORT; default 3000)').argParser(int('port')))
    .addOption(new Option('--host <host>', 'interface to bind (env HOST; default 127.0.0.1)'))
    .addOption(new Option('--max-waiting <n>', 'per queue: past this many waiting jobs, enqueue answers 429 (env TASKYARD_MAX_WAITING; default 100000)').argParser(int('max-waiting')))
    .addOption(new Option('--projector-claim <ms>', 'Redis: take over a dead API instance\'s unwritten events after this long (default 30000)').argParser(int('projector-claim')).hideHelp());
}

function workerOptions(command: Command): Command {
  return command
    .addOption(new Option('--queues <names>', 'queues to consume; default all (env TASKYARD_QUEUES)').argParser(list))
    .addOption(new Option('-c, --concurrency <n>', 'jobs at once per queue (env TASKYARD_CONCURRENCY; default 4)').argParser(int('concurrency')))
    .addOption(new Option('--max-jobs-per-child <n>', 'replace a sandbox thread after n jobs, freeing what tasks leak (env TASKYARD_MAX_JOBS_PER_CHILD; default never)').argParser(int('max-jobs-per-child')))
    .addOption(new Option('--metrics-port <port>', 'serve /metrics (Prometheus) and /health on this port (env TASKYARD_METRICS_PORT)').argParser(int('metrics-port')))
    .addOption(new Option('--shutdown-grace <ms>', 'on SIGTERM, time running jobs get to finish (default 10000)').argParser(int('shutdown-grace')));
}

async function run(role: Role, flags: Flags): Promise<void> {
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

export async function main(argv: string[]): Promise<void> {
  const program = new Command('taskyard').description('Typed background jobs with live progress, for TypeScript').showHelpAfterError();
  workerOptions(httpOptions(serverOptions(program.command('start').description('API and worker in one process (the default way to run)')))).action((flags: Flags) =>
    run('all', flags),
  );
  httpOptions(serverOptions(program.command('api').description('the HTTP API only (workers run elsewhere; needs --database or --redis)'))).action((flags: Flags) =>
    run('api', flags),
  );
  workerOptions(serverOptions(program.command('worker').description('a worker only (needs --database or --redis to share work with an API)'))).action((flags: Flags) =>
    run('worker', flags),
  );
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof TaskyardError) process.stderr.write(`taskyard: ${error.message}\n`);
    else process.stderr.write(`taskyard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
