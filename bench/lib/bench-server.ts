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
  /** After a full garbage collection: resident memory, and the JS heap in use plus memory outside it (Buffers), in bytes. */
  memory(): Promise<{ rss: number; heapUsed: number; external: number }>;
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
      profileStart: async () => void (await request(child, 'profile-start', /^profile-started$/m, output)),
      profileStop: async (file) => void (await request(child, `profile-stop ${file}`, /^profile-written /m, output)),
      cpuUsage: async () => {
        const match = await request(child, 'cpu', /^cpu-usage (\d+) (\d+)$/m, output, 10_000);
        return { user: Number(match[1]), system: Number(match[2]) };
      },
      memory: async () => {
        const match = await request(child, 'memory', /^memory-usage (\d+) (\d+) (\d+)$/m, output);
        return { rss: Number(match[1]), heapUsed: Number(match[2]), external: Number(match[3]) };
      },
      stop: () => terminate(child),
      output,
    };
  } catch (error) {
    await terminate(child, 2000);
    throw error;
  }
}

/** Writes a command to the server's stdin; resolves with its answer. */
function request(child: ChildProcess, line: string, answer: RegExp, output: () => string, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const answered = waitForLine(child, answer, timeoutMs, output);
  child.stdin?.write(`${line}\n`);
  return answered;
}

/** An API process, and its worker process when they run apart. */
export interface ServerPair {
  api: BenchServer;
  worker: BenchServer | undefined;
  /** The processes whose CPU is the system under test's (for waitForQuiet). */
  pids: number[];
  stop(): Promise<void>;
}

/**
 * On PGlite one process does everything (the database lives in it); on
 * PostgreSQL or Redis the worker runs apart, so the API process's CPU and
 * memory are those of serving clients, not of running the task.
 */
export async function startApiAndWorker(common: BenchServerOptions, apart: boolean, apiOnly: BenchServerOptions = {}): Promise<ServerPair> {
  const worker = apart ? await startBenchServer({ ...common, role: 'worker' }) : undefined;
  try {
    const api = await startBenchServer({ ...common, ...apiOnly, role: apart ? 'api' : 'all' });
    return {
      api,
      worker,
      pids: [api.pid, ...(worker ? [worker.pid] : [])],
      stop: async () => {
        await api.stop();
        await worker?.stop();
      },
    };
  } catch (error) {
    await worker?.stop();
    throw error;
  }
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
