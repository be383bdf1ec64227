// The Taskyard server the benchmarks load, in a process of its own so load
// generation does not share its CPU time slices or event loop.
//
//   node --import tsx bench/server.ts '<TaskyardOptions as JSON>'
//
// Prints `TASKYARD_BENCH_URL <url>` once ready. Stops on SIGTERM/SIGINT. Reads
// commands on stdin: `profile-start`, then `profile-stop <file>` writes a V8 CPU
// profile of the main thread (where PGlite, BullMQ and Fastify run) and answers
// `profile-written <file>`; `cpu` answers `cpu-usage <user µs> <system µs>`; `memory`
// collects garbage, then answers `memory-usage <rss> <heapUsed> <external>` (bytes).
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { createTaskyard, type TaskyardOptions } from '../src/taskyard.js';

const given = JSON.parse(process.argv[2] ?? '{}') as TaskyardOptions;
const taskyard = createTaskyard({
  port: 0,
  logLevel: 'warn',
  env: false,
  builtins: false,
  tasks: [new URL('./tasks.ts', import.meta.url).pathname],
  ...given,
});

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  taskyard.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench server: error while stopping: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

let session: Session | undefined;
createInterface({ input: process.stdin })
  .on('line', (line) => {
    void command(line.trim()).catch((error: unknown) => process.stdout.write(`profile-error ${String(error)}\n`));
  })
  // The harness went away (crashed, or was killed): do not linger.
  .on('close', stop);

async function command(line: string): Promise<void> {
  if (line === 'cpu') {
    // CPU time of this whole process (all threads), in microseconds.
    const { user, system } = process.cpuUsage();
    process.stdout.write(`cpu-usage ${user} ${system}\n`);
  } else if (line === 'memory') {
    // A full GC first (through the inspector: no --expose-gc needed), so the heap holds only what is live.
    const gc = new Session();
    gc.connect();
    await gc.post('HeapProfiler.collectGarbage');
    gc.disconnect();
    const { rss, heapUsed, external } = process.memoryUsage();
    process.stdout.write(`memory-usage ${rss} ${heapUsed} ${external}\n`);
  } else if (line === 'profile-start') {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    process.stdout.write('profile-started\n');
  } else if (line.startsWith('profile-stop ') && session) {
    const file = line.slice('profile-stop '.length);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    session = undefined;
    await writeFile(file, JSON.stringify(profile));
    process.stdout.write(`profile-written ${file}\n`);
  }
}

await taskyard.start();
// A worker serves no HTTP: '-' still tells the harness it is ready.
process.stdout.write(`TASKYARD_BENCH_URL ${taskyard.url ?? '-'}\n`);
