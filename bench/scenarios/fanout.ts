// Fan-out: N clients on one API process follow one job that emits partials at
// a fixed rate (default 1,000/s), over SSE and, separately, over WebSocket.
// Each step (mode × N) runs on a fresh server; the clients run in child
// processes of their own (bench/lib/fanout-clients.ts). Measured per step:
// clients connected, partials delivered, missed and duplicated, worker-emit →
// client-receive latency, and the API process's RSS before vs with the clients
// connected (memory per connection).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startApiAndWorker, type BenchServer } from '../lib/bench-server.js';
import { writeLineChart } from '../lib/chart.js';
import { noteProfile } from '../lib/cpu-profile.js';
import type { FanoutClientsConfig, FanoutCounts, FanoutReport } from '../lib/fanout-clients.js';
import {
  breachedThreshold,
  fanoutReport,
  fmt,
  MODES,
  modeName,
  TARGET_P99_MS,
  THRESHOLD_P99_MS,
  type FanoutSettings,
  type MemoryMiB,
  type Mode,
  type Step,
} from '../lib/fanout-report.js';
import { submitJob } from '../lib/jobs-api.js';
import { CpuMeter, cpuSeconds, spawnLogged, terminate, waitForQuiet } from '../lib/processes.js';
import type { PhaseLine, Progress } from '../lib/progress.js';
import { positiveFlag, type OptionValues, type Scenario } from '../lib/scenario.js';
import { Histogram, round } from '../lib/stats.js';
import { parseBackend, withStorage } from '../lib/storage.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TASKS = fileURLToPath(new URL('../streaming-tasks.ts', import.meta.url));
const CLIENTS = fileURLToPath(new URL('../lib/fanout-clients.ts', import.meta.url));

function settings(quick: boolean, values: OptionValues): FanoutSettings {
  const positive = (name: string, fallback: number): number => positiveFlag(values, name, fallback);
  const list = (name: string, fallback: string): string[] => String(values[name] ?? fallback).split(',').map((item) => item.trim()).filter(Boolean);
  const steps = list('clients', quick ? '100' : '100,200,300,500,1000,2000,5000,10000').map(Number);
  if (steps.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('--clients: a comma-separated list of positive integers');
  const modes = list('modes', 'sse,ws');
  if (modes.some((mode) => !(MODES as readonly string[]).includes(mode))) throw new Error(`--modes: a comma-separated list of ${MODES.join(', ')}`);
  return {
    backend: parseBackend(values.backend),
    modes: modes as Mode[],
    steps: [...steps].sort((a, b) => a - b),
    rate: positive('rate', 1000),
    durationS: positive('duration', quick ? 1 : 5),
    clientProcs: Math.round(positive('client-procs', 2)),
    connectConcurrency: Math.round(positive('connect-concurrency', 200)),
    drainTimeoutS: positive('drain-timeout', quick ? 10 : 30),
    emitAll: values['emit-all'] === true,
    waitQuietS: values['wait-quiet'] === undefined ? (quick ? 0 : 30) : Number(values['wait-quiet']),
    profileDir: undefined,
  };
}

/** The soft limit on open files this process (and so the server it spawns) has. */
function openFilesLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

/** Each client process's share of `clients`: up to `maxProcs` processes of 50 clients or more. */
function shares(clients: number, maxProcs: number): number[] {
  const procs = Math.max(1, Math.min(maxProcs, Math.ceil(clients / 50)));
  return Array.from({ length: procs }, (_, k) => Math.floor(clients / procs) + (k < clients % procs ? 1 : 0));
}

/** A client process and its latest report. */
interface ClientProc {
  child: ChildProcess;
  output: () => string;
  last: FanoutCounts | undefined;
  ready: boolean;
  result: Extract<FanoutReport, { type: 'result' }> | undefined;
}

function spawnClients(config: FanoutClientsConfig): ClientProc {
  const { child, output } = spawnLogged(process.execPath, ['--import', 'tsx', CLIENTS, JSON.stringify(config)], { cwd: ROOT });
  const proc: ClientProc = { child, output, last: undefined, ready: false, result: undefined };
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('FANOUT ')) continue;
      const report = JSON.parse(line.slice('FANOUT '.length)) as FanoutReport;
      proc.last = report;
      if (report.type !== 'progress') proc.ready = true;
      if (report.type === 'result') proc.result = report;
    }
  });
  return proc;
}

/** Waits until `done()` holds, updating the phase line; false if `timeoutMs` passed first or a process died. */
async function until(procs: readonly ClientProc[], done: () => boolean, timeoutMs: number, line: PhaseLine, say: () => string): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    const dead = procs.find((p) => p.child.exitCode !== null && !p.result);
    if (dead) throw new Error(`a client process exited (code ${dead.child.exitCode}):\n${dead.output()}`);
    if (performance.now() > deadline) return false;
    line.update(say());
    await sleep(100);
  }
  return true;
}

const sum = (procs: readonly ClientProc[], field: keyof FanoutCounts): number => procs.reduce((n, p) => n + (p.result?.[field] ?? p.last?.[field] ?? 0), 0);

async function memoryMiB(api: BenchServer): Promise<MemoryMiB> {
  const { rss, heapUsed, external } = await api.memory();
  return { rss: round(rss / 2 ** 20, 1), heap: round((heapUsed + external) / 2 ** 20, 1) };
}

/** Connects `clients` clients to a gated bench-fanout job, opens the gate, and collects what they saw. */
async function fanout(api: BenchServer, mode: Mode, clients: number, updates: number, s: FanoutSettings, line: PhaseLine, profileFile?: string): Promise<Omit<Step, 'memoryBefore' | 'kibPerConnection' | 'heapKibPerConnection' | 'emitted' | 'othersBeforeCores' | 'burstLatencyMs'>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'taskyard-fanout-'));
  const gate = path.join(dir, 'go');
  const jobId = await submitJob(api.url, 'bench-fanout', { updates, rate: s.rate, gate });
  const procs = shares(clients, s.clientProcs).map((n) =>
    spawnClients({ url: api.url, jobId, mode, clients: n, updates, connectConcurrency: Math.max(1, Math.round(s.connectConcurrency / s.clientProcs)) }),
  );
  try {
    const t0 = performance.now();
    const connectMs = 60_000 + clients * 20;
    const ready = await until(procs, () => procs.every((p) => p.ready), connectMs, line, () => `connecting ${sum(procs, 'ready')}/${clients}`);
    if (!ready) throw new Error(`only ${sum(procs, 'ready')} of ${clients} clients had their first event after ${connectMs / 1000} s`);
    const connectS = (performance.now() - t0) / 1000;
    const memoryWith = await memoryMiB(api);
    const meter = new CpuMeter(api.pid);
    const clientCpu0 = procs.reduce((n, p) => n + cpuSeconds(p.child.pid!), 0);
    const wall0 = performance.now();
    if (profileFile) await api.profileStart();
    meter.start();
    const openedAt = Date.now();
    await writeFile(gate, '');
    const finished = await until(
      procs,
      () => procs.every((p) => p.result),
      (updates / s.rate + s.drainTimeoutS) * 1000,
      line,
      () => `${clients} clients: ${sum(procs, 'delivered').toLocaleString('en-US')} of ${(updates * clients).toLocaleString('en-US')} partials delivered`,
    );
    const cpu = meter.stop();
    const clientCores = (procs.reduce((n, p) => n + cpuSeconds(p.child.pid!), 0) - clientCpu0) / ((performance.now() - wall0) / 1000);
    if (profileFile) await api.profileStop(profileFile);
    if (!finished) {
      for (const p of procs) p.child.stdin?.write('stop\n');
      await until(procs, () => procs.every((p) => p.result), 30_000, line, () => 'stopping the clients');
    }
    const results = procs.map((p) => p.result!);
    const latency = new Histogram();
    for (const result of results) latency.merge(result.latency);
    const delivered = sum(procs, 'delivered');
    const lastReceivedAt = Math.max(...results.map((r) => r.lastReceivedAt));
    const missed = results.reduce((n, r) => n + r.missed, 0);
    const late = results.reduce((n, r) => n + r.late, 0);
    return {
      mode,
      clients,
      connected: sum(procs, 'ready'),
      failed: sum(procs, 'failed'),
      completed: sum(procs, 'completed'),
      connections: results.reduce((n, r) => n + r.connections, 0),
      updates,
      delivered,
      missed,
      late,
      duplicated: sum(procs, 'duplicated'),
      complete: finished && missed === 0 && late === 0,
      latencyMs: latency.summary(),
      deliveredPerS: round(delivered / Math.max(0.001, (lastReceivedAt - openedAt) / 1000), 0),
      connectS: round(connectS, 1),
      memoryWith,
      apiCores: round(cpu.server, 2),
      clientCores: round(clientCores, 2),
      // The client processes are not the harness: take them out of "others".
      othersCores: round(Math.max(0, cpu.others - clientCores), 2),
      clientProcs: procs.length,
      errors: results.flatMap((r) => r.errors).slice(0, 5),
    };
  } finally {
    await Promise.all(procs.map((p) => terminate(p.child, 2000)));
    await rm(dir, { recursive: true, force: true });
  }
}

async function runStep(mode: Mode, clients: number, emit: boolean, s: FanoutSettings, progress: Progress, quick: boolean): Promise<Step> {
  return withStorage(s.backend, async (storage) => {
    const tag = `[${mode} × ${clients.toLocaleString('en-US')}]`;
    const starting = progress.phase(`${tag} starting a fresh ${s.backend === 'pglite' ? 'server' : 'API and worker'}`);
    const common = { ...storage, builtins: false, tasks: [TASKS], logLevel: 'warn' };
    const servers = await startApiAndWorker(common, s.backend !== 'pglite');
    const { api } = servers;
    try {
      starting.done(api.url);
      // Hot paths compiled and pools filled before measuring.
      const warmUpdates = Math.round(Math.min(s.rate, 500) * (quick ? 0.4 : 1));
      const warm = progress.phase(`${tag} warm-up: 20 clients, ${warmUpdates} partials`);
      await fanout(api, mode, 20, warmUpdates, s, warm);
      warm.done();
      const updates = emit ? Math.round(s.rate * s.durationS) : 1;
      const measuring = progress.phase(emit ? `${tag} ${updates.toLocaleString('en-US')} partials at ${s.rate}/s` : `${tag} connect only (a smaller N already breached ${THRESHOLD_P99_MS} ms), one partial`);
      const quiet = s.waitQuietS > 0 ? await waitForQuiet(servers.pids, { maxS: s.waitQuietS, onWait: (cores) => measuring.update(`waiting for a quiet machine (others use ${cores.toFixed(2)} cores)`) }) : undefined;
      const memoryBefore = await memoryMiB(api);
      const profileFile = s.profileDir && emit ? path.join(s.profileDir, `fanout-${mode}-${clients}.cpuprofile`) : undefined;
      const run = await fanout(api, mode, clients, updates, s, measuring, profileFile);
      const step: Step = {
        ...run,
        emitted: emit,
        othersBeforeCores: quiet ? round(quiet.othersCores, 2) : Number.NaN,
        latencyMs: emit ? run.latencyMs : undefined,
        burstLatencyMs: emit ? undefined : run.latencyMs,
        memoryBefore,
        kibPerConnection: round(((run.memoryWith.rss - memoryBefore.rss) * 1024) / clients, 1),
        heapKibPerConnection: round(((run.memoryWith.heap - memoryBefore.heap) * 1024) / clients, 1),
      };
      const l = step.latencyMs;
      measuring.done(
        `${step.connected}/${clients} connected in ${step.connectS} s, ${step.heapKibPerConnection} KiB heap (${step.kibPerConnection} KiB RSS) each` +
          (l ? `; ${fmt(step.delivered)} delivered, ${step.missed} missed, ${step.late} late, ${step.duplicated} dup; p50 ${l.p50} p99 ${l.p99} max ${l.max} ms` : `; the partial reached all in ${step.burstLatencyMs?.max} ms`),
      );
      if (profileFile) await noteProfile(progress, `${tag} API profile`, profileFile);
      return step;
    } finally {
      await servers.stop();
    }
  });
}

export const scenario: Scenario = {
  description: 'N SSE / WebSocket clients on one API process follow a job emitting 1,000 partials/s — latency, missed, memory per connection',
  options: {
    clients: { type: 'string' },
    modes: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    backend: { type: 'string' },
    'client-procs': { type: 'string' },
    'connect-concurrency': { type: 'string' },
    'drain-timeout': { type: 'string' },
    'emit-all': { type: 'boolean' },
    'wait-quiet': { type: 'string' },
    profile: { type: 'boolean' },
  },
  usage: [
    '--clients <list>   N per step (default 100,200,300,500,1000,2000,5000,10000; --quick 100)',
    '--modes <list>     sse,ws (default both)',
    '--rate <per s>     partials per second, from one job (default 1000)',
    '--duration <s>     emitting time per step (default 5; --quick 1)',
    '--backend <name>   pglite (default, one process), postgres or redis (API and worker apart)',
    '--client-procs <n> most client processes per step (default 2)',
    '--connect-concurrency <n>  clients connecting at once, over all processes (default 200)',
    '--drain-timeout <s> time after the last emit for every partial to arrive (default 30; --quick 10)',
    '--emit-all         emit at every step, even past the first that did not keep up',
    '--wait-quiet <s>   wait up to this long for a quiet machine before each step (default 30; --quick 0)',
    '--profile          CPU-profile the API process while it emits (files in the results folder)',
  ],
  async run({ quick, values, progress, resultsDir }) {
    const s = { ...settings(quick, values), profileDir: values.profile === true ? resultsDir : undefined };
    const limit = openFilesLimit();
    const largest = Math.max(...s.steps);
    // The server holds one socket per client, plus its files and database connections.
    if (Number.isFinite(limit) && largest + 1000 > limit) {
      throw new Error(`ulimit -n is ${limit}: too few open files for ${fmt(largest)} clients on one server; raise it (ulimit -n ${largest + 5000}) or lower --clients`);
    }
    progress.note(`open files limit (ulimit -n): ${limit}; client processes per step: up to ${s.clientProcs}`);
    const steps: Step[] = [];
    for (const mode of s.modes) {
      let keepingUp = true;
      for (const clients of s.steps) {
        const step = await runStep(mode, clients, keepingUp || s.emitAll, s, progress, quick);
        steps.push(step);
        if (step.emitted && breachedThreshold(step)) keepingUp = false;
      }
    }
    const { tables, breached } = fanoutReport(s, steps);
    const points = steps.filter((step) => step.latencyMs).map((step) => ({ N: step.clients, p99: Math.max(1, step.latencyMs!.p99), mode: modeName(step.mode) }));
    const chart = await writeLineChart(resultsDir, 'fanout-p99', {
      title: `Fan-out: worker → client p99 latency vs clients (${fmt(s.rate)} partials/s, ${s.backend})`,
      points,
      x: { field: 'N', title: 'clients on one API process', log: true },
      y: { field: 'p99', title: 'p99 latency (ms)', log: true },
      series: 'mode',
      rules: [
        { y: THRESHOLD_P99_MS, label: `${THRESHOLD_P99_MS} ms (keeps up)` },
        { y: TARGET_P99_MS, label: `${TARGET_P99_MS} ms (target at 100 clients)` },
      ],
    });
    progress.note(`chart: ${path.relative(process.cwd(), chart)}`);
    return { tables, data: { settings: s, openFilesLimit: limit, steps }, breached };
  },
};
