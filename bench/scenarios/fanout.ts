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
import { submitJob } from '../lib/jobs-api.js';
import { CpuMeter, cpuSeconds, spawnLogged, terminate, waitForQuiet } from '../lib/processes.js';
import type { PhaseLine, Progress } from '../lib/progress.js';
import { positiveFlag, type OptionValues, type Scenario } from '../lib/scenario.js';
import { Histogram, round, type Summary } from '../lib/stats.js';
import { parseBackend, withStorage, type StorageBackend } from '../lib/storage.js';
import type { Table } from '../lib/table.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TASKS = fileURLToPath(new URL('../streaming-tasks.ts', import.meta.url));
const CLIENTS = fileURLToPath(new URL('../lib/fanout-clients.ts', import.meta.url));
/** The issue's bar for "keeps up": the highest N under it is reported. */
const THRESHOLD_P99_MS = 100;
/** The targets: p99 at 100 clients × 1,000 events/s, and concurrent SSE clients on one API process. */
const TARGET_P99_MS = 10;
const TARGET_SSE_CLIENTS = 10_000;
const MODES = ['sse', 'ws'] as const;
type Mode = (typeof MODES)[number];

interface Settings {
  backend: StorageBackend;
  modes: Mode[];
  steps: number[];
  /** Partials per second, all from one job. */
  rate: number;
  durationS: number;
  /** Most client processes per step (fewer for small N). */
  clientProcs: number;
  connectConcurrency: number;
  /** How long after the last emit the clients may take to receive everything. */
  drainTimeoutS: number;
  /** Emit at every step, even past the first that breached the threshold. */
  emitAll: boolean;
  /** Wait up to this long for a quiet machine before each measured step. */
  waitQuietS: number;
  profileDir: string | undefined;
}

function settings(quick: boolean, values: OptionValues): Settings {
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

interface Step {
  mode: Mode;
  clients: number;
  /** False when the step only connected the clients (a smaller N already breached the threshold). */
  emitted: boolean;
  connected: number;
  failed: number;
  completed: number;
  connections: number;
  updates: number;
  delivered: number;
  /** Lost: a client received a later partial but not this one. */
  missed: number;
  /** Not received by the end of the drain timeout (after each client's last one). */
  late: number;
  duplicated: number;
  /** Every client received every partial before the drain timeout. */
  complete: boolean;
  latencyMs: Summary | undefined;
  /** A connect-only step's one partial, to all N clients. */
  burstLatencyMs: Summary | undefined;
  /** Partials delivered per second, from the gate opening to the last receipt. */
  deliveredPerS: number;
  connectS: number;
  /** The API process after a full GC, before the clients connected and with them connected. */
  memoryBefore: MemoryMiB;
  memoryWith: MemoryMiB;
  /** RSS growth ÷ N. */
  kibPerConnection: number;
  /** JS heap + external (Buffers) growth ÷ N: less noisy than RSS, which also holds freed pages. */
  heapKibPerConnection: number;
  apiCores: number;
  clientCores: number;
  othersCores: number;
  /** What other processes used just before the step (after waiting for a quiet machine). */
  othersBeforeCores: number;
  clientProcs: number;
  errors: string[];
}

interface MemoryMiB {
  rss: number;
  /** heapUsed + external. */
  heap: number;
}

async function memoryMiB(api: BenchServer): Promise<MemoryMiB> {
  const { rss, heapUsed, external } = await api.memory();
  return { rss: round(rss / 2 ** 20, 1), heap: round((heapUsed + external) / 2 ** 20, 1) };
}

/** Connects `clients` clients to a gated bench-fanout job, opens the gate, and collects what they saw. */
async function fanout(api: BenchServer, mode: Mode, clients: number, updates: number, s: Settings, line: PhaseLine, profileFile?: string): Promise<Omit<Step, 'memoryBefore' | 'kibPerConnection' | 'heapKibPerConnection' | 'emitted' | 'othersBeforeCores' | 'burstLatencyMs'>> {
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

const breachedThreshold = (step: Step): boolean => !step.complete || step.duplicated > 0 || !step.latencyMs || step.latencyMs.p99 >= THRESHOLD_P99_MS;

async function runStep(mode: Mode, clients: number, emit: boolean, s: Settings, progress: Progress, quick: boolean): Promise<Step> {
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

const modeName = (mode: Mode): string => (mode === 'sse' ? 'SSE' : 'WebSocket');
const fmt = (n: number): string => n.toLocaleString('en-US');

function report(s: Settings, steps: readonly Step[]): { tables: Table[]; breached: string[] } {
  const highest = (mode: Mode): Step | undefined => steps.filter((step) => step.mode === mode && step.emitted && !breachedThreshold(step)).at(-1);
  const at100 = (mode: Mode): Step | undefined => steps.find((step) => step.mode === mode && step.clients === 100 && step.emitted);
  const breached: string[] = [];
  for (const step of steps) {
    if (step.missed > 0 || step.duplicated > 0) breached.push(`${modeName(step.mode)} × ${step.clients}: ${step.missed} partials missed, ${step.duplicated} duplicated (must be 0)`);
    if (step.failed > 0) breached.push(`${modeName(step.mode)} × ${step.clients}: ${step.failed} clients failed`);
  }
  const targets: Table['rows'] = [];
  for (const mode of s.modes) {
    const step = at100(mode);
    const p99 = step?.latencyMs?.p99;
    targets.push([
      `${modeName(mode)}: p99 < ${TARGET_P99_MS} ms at 100 clients × ${fmt(s.rate)} events/s`,
      p99 === undefined ? 'not run (no 100-client step)' : `p99 ${p99} ms (p50 ${step!.latencyMs!.p50}, p95 ${step!.latencyMs!.p95})`,
      p99 === undefined ? '—' : p99 < TARGET_P99_MS ? 'met' : `MISSED by ${round(p99 - TARGET_P99_MS, 1)} ms (${round(p99 / TARGET_P99_MS, 1)}×)`,
    ]);
  }
  if (s.modes.includes('sse')) {
    const largest = steps.filter((step) => step.mode === 'sse' && step.failed === 0 && step.complete).at(-1);
    const most = largest?.connected ?? 0;
    const served = largest?.emitted ? `p99 ${largest.latencyMs?.p99} ms at ${fmt(s.rate)} partials/s` : `one partial reached all in ${largest?.burstLatencyMs?.max} ms`;
    targets.push([
      `SSE: ≥ ${fmt(TARGET_SSE_CLIENTS)} concurrent clients on one API process`,
      largest ? `${fmt(most)} connected, every one got every partial; ${served}` : 'no step completed',
      most >= TARGET_SSE_CLIENTS ? 'met (connected; see the latency table for how fast they were served)' : `MISSED (${fmt(most)}; the largest step tried was ${fmt(Math.max(...s.steps))})`,
    ]);
  }
  for (const mode of s.modes) {
    const best = highest(mode);
    targets.push([`${modeName(mode)}: highest N with p99 < ${THRESHOLD_P99_MS} ms at ${fmt(s.rate)} events/s`, best ? fmt(best.clients) : 'none of the steps', '']);
  }
  return {
    breached,
    tables: [
      {
        title:
          `Fan-out — N clients follow one job emitting ${fmt(s.rate)} partials/s for ${s.durationS} s, one API process (${s.backend}` +
          `${s.backend === 'pglite' ? ', worker in the same process' : ', worker apart'}); a fresh server per step`,
        columns: ['mode', 'N', 'connected', 'failed', 'connect s', 'delivered', 'missed', 'late', 'dup', 'resumed', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', '1 partial to all ms', 'delivered/s', 'RSS MiB', 'heap KiB/conn', 'RSS KiB/conn', 'API cores', 'client cores', 'other cores'],
        rows: steps.map((step) => {
          // A connect-only step has no delivery figures.
          const emitted = (value: number): number | null => (step.emitted ? value : null);
          return [
            modeName(step.mode),
            step.clients,
            step.connected,
            step.failed,
            step.connectS,
            emitted(step.delivered),
            emitted(step.missed),
            emitted(step.late),
            emitted(step.duplicated),
            step.connections - step.clients,
            step.latencyMs?.p50 ?? null,
            step.latencyMs?.p95 ?? null,
            step.latencyMs?.p99 ?? null,
            step.latencyMs?.max ?? null,
            step.burstLatencyMs?.max ?? null,
            emitted(step.deliveredPerS),
            `${step.memoryBefore.rss} → ${step.memoryWith.rss}`,
            step.heapKibPerConnection,
            step.kibPerConnection,
            emitted(step.apiCores),
            emitted(step.clientCores),
            emitted(step.othersCores),
          ];
        }),
        notes: [
          "Latency: the worker's Date.now() in each partial → Date.now() when the client parsed its frame (same machine clock, whole ms); every client's first receipt of every partial.",
          `delivered = distinct partials received over all clients (N × ${fmt(Math.round(s.rate * s.durationS))} when all arrived); missed = lost (a later one arrived); late = not arrived ${s.drainTimeoutS} s after the last emit; resumed = reconnections after the server closed a slow client (SSE \`resume\` / WS \`overflow\`).`,
          `A step counts as keeping up when every client got every partial and p99 < ${THRESHOLD_P99_MS} ms. ${s.emitAll ? '' : `Past the first step of a mode that did not, the larger steps only connect (memory, connect time) and send one partial.`}`,
          '1 partial to all: in a connect-only step, the worst latency of its one partial over the N clients.',
          'Memory of the API process after a full GC (inspector), after a warm-up, before → with the N clients connected: heap = JS heap used + external (Buffers); RSS also counts PGlite and freed-but-kept pages, so it is noisy below ~1,000 clients.',
          'delivered/s: partials delivered ÷ (gate opened → last receipt).',
          'client cores: the client processes (separate from the server, on the same 2 cores); other cores: everything else on the machine.',
        ],
      },
      { title: 'Fan-out against the targets', columns: ['target', 'measured', 'met'], rows: targets },
    ],
  };
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
    const { tables, breached } = report(s, steps);
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
