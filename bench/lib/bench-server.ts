import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnLogged, terminate, waitForLine } from './processes.js';
import type { Progress } from './progress.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Settings handed to bench/server.ts (a subset of TaskyardOptions, as JSON). */
export interface BenchServerOptions {
  dataDir?: string;
  databaseUrl?: string;
  historySchema?: string;
  engineSchema?: string;
  concurrency?: number;
  logLevel?: string;
  redisUrl?: string;
  redisPrefix?: string;
  /** Admission limit per queue (429 past it). */
  maxWaiting?: number;
  /** Which parts run in the process. @defaultValue 'all' */
  role?: 'all' | 'api' | 'worker';
  /** Recipes to run (their tasks, data and routes). @defaultValue none */
  recipes?: string[];
  /** Load the built-in tasks (compute-pi, sleep) instead of bench/tasks.ts. */
  builtins?: boolean;
  tasks?: string[];
  port?: number;
}

export interface BenchServer {
  /** '-' for a worker (it serves no HTTP). */
  url: string;
  pid: number;
  /** How long the process took to print its URL, in ms. */
  startMs: number;
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<void>;
  /** The server process's CPU time so far (all its threads), in µs. */
  cpuUsage(): Promise<{ user: number; system: number }>;
  /** SIGTERM, graceful; resolves with the exit code. */
  stop(): Promise<number | null>;
  output(): string;
}

/** Starts Taskyard in a process of its own (`node --import tsx bench/server.ts`). */
export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  const t0 = performance.now();
  const { child, output } = spawnLogged(process.execPath, ['--import', 'tsx', 'bench/server.ts', JSON.stringify(options)], { cwd: ROOT });
  try {
    const match = await waitForLine(child, /^TASKYARD_BENCH_URL (\S+)$/m, 120_000, output);
    const startMs = performance.now() - t0;
    return {
      url: match[1]!,
      pid: child.pid!,
      startMs,
      profileStart: () => request(child, 'profile-start', /^profile-started$/m, output),
      profileStop: (file) => request(child, `profile-stop ${file}`, /^profile-written /m, output),
      cpuUsage: async () => {
        const answered = waitForLine(child, /^cpu-usage (\d+) (\d+)$/m, 10_000, output);
        child.stdin?.write('cpu\n');
        const match = await answered;
        return { user: Number(match[1]), system: Number(match[2]) };
      },
      stop: () => terminate(child),
      output,
    };
  } catch (error) {
    await terminate(child, 2000);
    throw error;
  }
}

async function request(child: ChildProcess, line: string, answer: RegExp, output: () => string): Promise<void> {
  const answered = waitForLine(child, answer, 60_000, output);
  child.stdin?.write(`${line}\n`);
  await answered;
}

/** Starts several servers at once, on one progress line; stops those that started if one fails. */
export async function startBenchServers(progress: Progress, label: string, servers: Array<BenchServerOptions & { name: string }>): Promise<BenchServer[]> {
  const line = progress.phase(label);
  const started = await Promise.allSettled(servers.map(({ name: _name, ...options }) => startBenchServer({ logLevel: 'warn', ...options })));
  const ok = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((server) => server.stop()));
    line.fail(failed.reason);
    throw failed.reason;
  }
  line.done(ok.map((server, i) => `${servers[i]!.name} ${Math.round(server.startMs)} ms`).join(', '));
  return ok;
}

export async function stopBenchServers(progress: Progress, label: string, servers: readonly BenchServer[]): Promise<void> {
  const line = progress.phase(label);
  const codes = await Promise.all(servers.map((server) => server.stop()));
  line.done(`exit ${codes.join(', ')}`);
}
