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

const minutes = (value: string): number => {
  const n = int('minutes')(value);
  if (n < 1 || n > 1440) throw new InvalidArgumentError('minutes must be 1 to 1440');
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
      .addOption(new Option('--timeout <ms>', 'give up on an API that does not answer within this long').argParser(int('timeout')).default(10_000));
    if (view === 'stats') command.addOption(new Option('--minutes <n>', 'rates are averages over the last n minutes (1-1440)').argParser(minutes).default(15));
    command.action(async (options: InspectOptions) => (await import('./views.js')).inspect(view, options));
  }
}
