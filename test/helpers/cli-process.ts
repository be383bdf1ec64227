import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getJson } from './taskyard.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const ENTRY = path.join(ROOT, 'test/helpers/cli-entry.ts');

/** Settings a developer's shell may carry; a spawned CLI must see only its flags. */
const CONFIG_ENV = ['PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'TASKYARD_REDIS_PREFIX', 'TASKYARD_MAX_WAITING', 'TASKYARD_DATA_DIR', 'TASKYARD_TASKS', 'TASKYARD_QUEUES', 'TASKYARD_CONCURRENCY', 'TASKYARD_RECIPES', 'TASKYARD_MAX_JOBS_PER_CHILD', 'TASKYARD_JOB_NICE', 'LOG_LEVEL', 'TASKYARD_URL'];

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match in stdout; rejects if the process exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal if the process is still running. */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL if still running, then waits for the exit. */
  kill(): Promise<void>;
}

const running = new Set<CliProcess>();

/** Spawns `taskyard <args>` from source (tsx), with a clean configuration environment. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of CONFIG_ENV) delete childEnv[key];
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env: { ...childEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const describe = (): string => `\n--- stdout ---\n${out.slice(-3000)}\n--- stderr ---\n${err.slice(-3000)}`;

  const proc: CliProcess = {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const match = pattern.exec(out);
          if (match) {
            cleanup();
            resolve(match);
          }
          return Boolean(match);
        };
        const onExit = (): void => {
          // Let the last chunks of output arrive before giving up.
          setImmediate(() => {
            if (check()) return;
            cleanup();
            reject(new Error(`taskyard ${args.join(' ')} exited before printing ${pattern}${describe()}`));
          });
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`taskyard ${args.join(' ')} did not print ${pattern} within ${timeoutMs} ms${describe()}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.off('exit', onExit);
        };
        if (check()) return;
        child.stdout!.on('data', check);
        child.once('exit', onExit);
      });
    },
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async kill() {
      proc.signal('SIGKILL');
      await exited;
      running.delete(proc);
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** Kills every CLI process spawned by this test file that is still running (for `after` hooks). */
export async function killAllCli(): Promise<void> {
  await Promise.all([...running].map((proc) => proc.kill()));
}

/** Waits for a spawned process to exit, failing with its output if it takes longer than `timeoutMs`. */
export async function waitForExit(proc: CliProcess, timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`process ${proc.pid} still running after ${timeoutMs} ms\n--- stdout ---\n${proc.stdout().slice(-3000)}\n--- stderr ---\n${proc.stderr().slice(-3000)}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a short-lived `taskyard <args>` (e.g. `inspect`) to its end: its exit code and output. */
export async function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnCli(args, env);
  const { code } = await waitForExit(proc);
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** Starts `taskyard start --port 0 …` and returns it with the URL it printed. */
export async function startCli(args: readonly string[], env: Record<string, string> = {}): Promise<{ proc: CliProcess; url: string }> {
  const proc = spawnCli(['start', '--port', '0', ...args], env);
  const [, url] = await proc.waitForOutput(/ready at (http:\/\/\S+)/);
  return { proc, url: url! };
}

export async function makeTempDir(prefix = 'taskyard-test-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls a job until `predicate` holds for it. */
export async function waitForJob(url: string, id: string, predicate: (job: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await getJson(`${url}/v1/jobs/${id}`);
    if (status === 200 && predicate(body)) return body;
    if (Date.now() > deadline) throw new Error(`job ${id} did not reach the expected state within ${timeoutMs} ms (last: ${JSON.stringify(body)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A job's whole event log, as JSON. */
export async function jobEvents(url: string, id: string): Promise<Array<{ seq: number; type: string; data: any }>> {
  const { status, body } = await getJson(`${url}/v1/jobs/${id}/events?limit=10000`);
  if (status !== 200) throw new Error(`events of ${id} answered ${status}: ${JSON.stringify(body)}`);
  return body;
}
