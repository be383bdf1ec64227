// `taskyard inspect <view>`: the commands and their flags. The views' code (and
// the HTTP client) is loaded only when one runs.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { int } from '../arg-parsers.js';
import type { InspectOptions, ViewName } from './views.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

const VIEWS: ReadonlyArray<readonly [ViewName, string]> = [
  ['active', 'jobs running now, and the worker holding each'],
  ['registered', 'the tasks the API knows, their queues, and how many live workers consume each'],
  ['stats', 'per queue: jobs waiting, active, delayed, finished, and finished per minute'],
  ['workers', 'worker processes: host, pid, queues, concurrency, jobs in hand, last heartbeat, alive'],
];

const between = (name: string, min: number, max: number) => (value: string): number => {
  const n = int(name)(value);
  if (n < min || n > max) throw new InvalidArgumentError(`${name} must be ${min} to ${max}`);
  return n;
};

export function inspectCommand(program: Command): void {
  const inspect = program
    .command('inspect')
    .description('what a running deployment is doing, read from its HTTP API (like `celery inspect`)');
  for (const [view, description] of VIEWS) {
    const command = inspect
      .command(view)
      .description(description)
      .addOption(new Option('--url <url>', 'the Taskyard API').env('TASKYARD_URL').default(DEFAULT_URL))
      .addOption(new Option('--json', 'print JSON instead of a table'))
      .addOption(new Option('--timeout <ms>', 'give up on an API that does not answer within this long').argParser(between('timeout', 1, 3_600_000)).default(10_000));
    if (view === 'stats') command.addOption(new Option('--minutes <n>', 'rates are averages over the last n minutes (1-1440)').argParser(between('minutes', 1, 1440)).default(15));
    command.action(async (options: InspectOptions) => (await import('./views.js')).inspect(view, options));
  }
}
