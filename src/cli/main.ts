import { Command, Option } from 'commander';
import { TaskyardError } from '../errors.js';
import { RECIPE_NAMES } from '../recipes/recipe-names.js';
import { int, list } from './arg-parsers.js';
import { inspectCommand } from './inspect/command.js';
import type { Flags, Role } from './serve.js';

// Only the chosen command's code is loaded: `taskyard inspect` never loads the server.
const run = async (role: Role, flags: Flags): Promise<void> => (await import('./serve.js')).run(role, flags);

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

/** The `taskyard` commands and their flags (built, not run: the tests read them too). */
export function buildProgram(): Command {
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
  inspectCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof TaskyardError) process.stderr.write(`taskyard: ${error.message}\n`);
    else process.stderr.write(`taskyard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
