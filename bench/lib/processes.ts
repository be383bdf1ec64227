import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';

/** A port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const CLOCK_TICKS = 100; // USER_HZ on every Linux build Node runs on

/** CPU seconds (user + system, every thread) a process has used so far; NaN off Linux. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces, inside parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** A `Vm…: <n> kB` line of /proc/<pid>/status, in MiB; NaN off Linux. */
function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident memory of a process in MiB (VmHWM); NaN off Linux. */
export const peakRssMiB = (pid: number): number => statusMiB(pid, 'VmHWM');

/** Resident memory of a process now, in MiB (VmRSS); NaN off Linux. */
export const rssMiB = (pid: number): number => statusMiB(pid, 'VmRSS');

/** CPU seconds the whole machine has been busy (every process, every core); NaN off Linux. */
export function machineCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

export interface CpuShare {
  /** Cores the server process used on average (all its threads); 1.0 = one core busy throughout. */
  server: number;
  /** Cores this harness used (the load generator). */
  harness: number;
  /** Cores everything else on the machine used: noise, when it is not near 0. */
  others: number;
}

/** Measures who used the CPU between start() and stop(). */
export class CpuMeter {
  private server0 = 0;
  private machine0 = 0;
  private harness0: NodeJS.CpuUsage = { user: 0, system: 0 };
  private wall0 = 0;

  constructor(private readonly pid: number) {}

  start(): void {
    this.server0 = cpuSeconds(this.pid);
    this.machine0 = machineCpuSeconds();
    this.harness0 = process.cpuUsage();
    this.wall0 = performance.now();
  }

  stop(): CpuShare {
    const wall = (performance.now() - this.wall0) / 1000;
    const harnessUsage = process.cpuUsage(this.harness0);
    const server = (cpuSeconds(this.pid) - this.server0) / wall;
    const harness = (harnessUsage.user + harnessUsage.system) / 1e6 / wall;
    const machine = (machineCpuSeconds() - this.machine0) / wall;
    return { server, harness, others: Math.max(0, machine - server - harness) };
  }
}

/** Resolves with the exit code; sends SIGKILL if SIGTERM was not enough within `graceMs`. */
export async function terminate(child: ChildProcess, graceMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    const [code] = await exited;
    return code;
  } finally {
    clearTimeout(timer);
  }
}

/** Spawns a process and keeps the tail of its output, for error messages. */
export function spawnLogged(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): {
  child: ChildProcess;
  output: () => string;
} {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => tail };
}

/** Waits until `pattern` appears in the child's stdout; rejects if it exits or the time runs out. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, output: () => string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      const match = pattern.exec(buffer);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`process exited (code ${code}) before printing ${pattern}:\n${output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}

/** Cores used by every process except this one and `exclude`, over `windowMs`. */
export async function othersCores(exclude: readonly number[], windowMs = 1000): Promise<number> {
  const cpu0 = exclude.map(cpuSeconds);
  const machine0 = machineCpuSeconds();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const wall = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  const excluded = exclude.reduce((sum, pid, i) => sum + (cpuSeconds(pid) - cpu0[i]!), 0);
  const used = machineCpuSeconds() - machine0 - excluded - (self.user + self.system) / 1e6;
  return Math.max(0, used / wall);
}

/**
 * Waits (at most `maxS`) until other processes use less than `threshold` cores,
 * so a measurement does not share a small machine with someone's test run.
 * Returns what it saw last and how long it waited.
 */
export async function waitForQuiet(
  exclude: readonly number[],
  options: { maxS: number; threshold?: number; onWait?: (cores: number, waitedS: number) => void },
): Promise<{ othersCores: number; waitedS: number }> {
  const threshold = options.threshold ?? 0.25;
  const t0 = performance.now();
  for (;;) {
    const cores = await othersCores(exclude, 1000);
    const waitedS = (performance.now() - t0) / 1000;
    if (cores < threshold || waitedS >= options.maxS) return { othersCores: cores, waitedS };
    options.onWait?.(cores, waitedS);
  }
}

/** waitForQuiet for at most `maxS` (nothing when 0), reporting the wait on `update`. */
export async function quietFor(maxS: number, exclude: readonly number[], update: (text: string) => void): Promise<void> {
  if (maxS <= 0) return;
  await waitForQuiet(exclude, {
    maxS,
    onWait: (cores, waitedS) => update(`waiting for the machine to be quiet: others use ${cores.toFixed(2)} cores (${waitedS.toFixed(0)}/${maxS} s)`),
  });
}

/** Waits (at most `maxS`) until the process uses less than a tenth of a core over a second. */
export async function settle(pid: number, maxS: number, update: (cores: number) => void): Promise<void> {
  const t0 = performance.now();
  while ((performance.now() - t0) / 1000 < maxS) {
    const cpu0 = cpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const cores = cpuSeconds(pid) - cpu0;
    if (!(cores >= 0.1)) return;
    update(cores);
  }
}
