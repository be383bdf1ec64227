// Streaming vs polling: N clients watch the same job, once over SSE and once
// polling `GET /v1/jobs/:id/events?after=` (Accept: application/json), each mode
// against fresh server processes so their CPU is not mixed. Measured: the API
// process's CPU per delivered update, worker→client latency, requests and bytes
// on the wire, and updates missed or duplicated.
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isTerminalEvent, type JobEvent } from '../../src/events/types.js';
import { startApiAndWorker } from '../lib/bench-server.js';
import { noteProfile } from '../lib/cpu-profile.js';
import { submitJob } from '../lib/jobs-api.js';
import { followSse, httpGet } from '../lib/live-clients.js';
import { CpuMeter, waitForQuiet } from '../lib/processes.js';
import type { Progress } from '../lib/progress.js';
import { positiveFlag, type OptionValues, type Scenario } from '../lib/scenario.js';
import { round, summarize, type Summary } from '../lib/stats.js';
import { withStorage } from '../lib/storage.js';
import type { Table } from '../lib/table.js';

const TICKER = fileURLToPath(new URL('../streaming-tasks.ts', import.meta.url));
const TARGET_CPU_RATIO = 20;
const BACKENDS = ['postgres', 'redis', 'pglite'] as const;
type Backend = (typeof BACKENDS)[number];
type Mode = 'sse' | 'polling';

interface Settings {
  backend: Backend;
  clients: number;
  intervalMs: number;
  updates: number;
  rate: number;
  /** Each round runs both modes, on fresh processes; the median round of each mode is reported. */
  rounds: number;
  waitQuietS: number;
  /** Write a CPU profile of the API process per measured run here (and print its top frames). */
  profileDir: string | undefined;
}

function settings(quick: boolean, values: OptionValues): Settings {
  const positive = (name: string, fallback: number): number => positiveFlag(values, name, fallback);
  const backend = String(values.backend ?? 'postgres');
  if (!(BACKENDS as readonly string[]).includes(backend)) throw new Error(`--backend: one of ${BACKENDS.join(', ')}`);
  return {
    backend: backend as Backend,
    clients: Math.round(positive('clients', 5)),
    intervalMs: positive('interval', 150),
    updates: Math.round(positive('updates', quick ? 60 : 200)),
    rate: positive('rate', 20),
    rounds: Math.round(positive('rounds', quick ? 1 : 3)),
    waitQuietS: values['wait-quiet'] === undefined ? (quick ? 0 : 30) : Number(values['wait-quiet']),
    profileDir: undefined,
  };
}

/** What one client saw, and what it cost on its sockets. */
interface Watch {
  latencyMs: Map<number, number>;
  duplicates: number;
  requests: number;
  agent: http.Agent;
  sockets: Set<Socket>;
}

function record(watch: Watch, data: unknown, receivedAt: number): void {
  const { i, sentAt } = data as { i: number; sentAt: number };
  if (watch.latencyMs.has(i)) watch.duplicates++;
  else watch.latencyMs.set(i, receivedAt - sentAt);
}

/** One GET on the client's own keep-alive agent; its socket is kept to count bytes on the wire. */
function get(watch: Watch, url: string, headers: Record<string, string>, onText: (text: string) => void): Promise<void> {
  return httpGet(url, { agent: watch.agent, headers, onRequest: countRequest(watch) }, onText);
}

const countRequest = (watch: Watch) => (request: http.ClientRequest): void => {
  watch.requests++;
  request.on('socket', (socket) => watch.sockets.add(socket));
};

/** SSE: one request; reconnects with Last-Event-ID if the server closes early (a `resume` frame). */
async function watchSse(base: string, jobId: string, watch: Watch): Promise<void> {
  await followSse(base, jobId, {
    agent: watch.agent,
    onRequest: countRequest(watch),
    onEvent: (event, receivedAt) => {
      if (event.type === 'partial') record(watch, event.data, receivedAt);
    },
  });
}

/** Polling: a request every `intervalMs` (start to start) for the events after the last seq. */
async function watchPolling(base: string, jobId: string, watch: Watch, intervalMs: number, offsetMs: number): Promise<void> {
  let after = 0;
  let next = performance.now() + offsetMs;
  for (;;) {
    await sleep(Math.max(0, next - performance.now()));
    next = Math.max(next + intervalMs, performance.now());
    let body = '';
    await get(watch, `${base}/v1/jobs/${jobId}/events?after=${after}`, { accept: 'application/json' }, (text) => (body += text));
    const receivedAt = Date.now();
    for (const event of JSON.parse(body) as JobEvent[]) {
      after = event.seq;
      if (event.type === 'partial') record(watch, event.data, receivedAt);
      else if (isTerminalEvent(event)) return;
    }
  }
}

interface ModeRun {
  mode: Mode;
  updatesPerClient: number[];
  missed: number;
  duplicated: number;
  requests: number;
  bytesIn: number;
  bytesOut: number;
  apiCpuMs: number;
  /** NaN when the worker runs in the API process (pglite). */
  workerCpuMs: number;
  cpuUsPerUpdate: number;
  /** Every update's first receipt, all clients (pooled over rounds for the percentiles). */
  latenciesMs: number[];
  othersCores: number;
}

/** Submits a ticker job and has `clients` clients follow it in `mode`; resolves when all have the final event. */
async function follow(base: string, mode: Mode, clients: number, input: object, s: Settings): Promise<Watch[]> {
  const id = await submitJob(base, 'bench-ticker', input);
  const watches = Array.from({ length: clients }, (): Watch => ({ latencyMs: new Map(), duplicates: 0, requests: 0, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), sockets: new Set() }));
  // Independent clients do not poll in step: their first polls are spread over one interval.
  await Promise.all(watches.map((w, k) => (mode === 'sse' ? watchSse(base, id, w) : watchPolling(base, id, w, s.intervalMs, (k * s.intervalMs) / clients))));
  for (const w of watches) w.agent.destroy();
  return watches;
}

async function runRound(mode: Mode, roundNo: number, s: Settings, progress: Progress): Promise<ModeRun> {
  return withStorage(s.backend, async (storage) => {
    const tag = `[${mode}${s.rounds > 1 ? ` ${roundNo}/${s.rounds}` : ''}]`;
    const starting = progress.phase(`${tag} starting fresh ${s.backend === 'pglite' ? 'server' : 'API and worker processes'}`);
    const common = { ...storage, builtins: false, tasks: [TICKER], logLevel: 'warn' };
    // Apart, so the API's CPU is the cost of delivering events, not of producing them.
    const servers = await startApiAndWorker(common, s.backend !== 'pglite', { recipes: ['streaming'] });
    const { api, worker } = servers;
    try {
      starting.done(api.url);
      // Hot paths compiled and pools filled before measuring: a first job costs up to twice as much.
      const warm = progress.phase(`${tag} warm-up job`);
      await follow(api.url, mode, s.clients, { updates: 100, rate: 50 }, s);
      warm.done();
      const measuring = progress.phase(`${tag} ${s.clients} clients, ${s.updates} updates at ${s.rate}/s${mode === 'polling' ? `, polling every ${s.intervalMs} ms` : ''}`);
      if (s.waitQuietS > 0) await waitForQuiet(servers.pids, { maxS: s.waitQuietS, onWait: (cores) => measuring.update(`waiting for a quiet machine (others use ${cores.toFixed(2)} cores)`) });
      const meter = new CpuMeter(api.pid);
      const [api0, worker0] = await Promise.all([api.cpuUsage(), worker?.cpuUsage()]);
      meter.start();
      if (s.profileDir) await api.profileStart();
      const watches = await follow(api.url, mode, s.clients, { updates: s.updates, rate: s.rate, startDelayMs: 500 }, s);
      const [api1, worker1] = await Promise.all([api.cpuUsage(), worker?.cpuUsage()]);
      if (s.profileDir) {
        const file = path.join(s.profileDir, `streaming-${mode}-${s.backend}-${roundNo}.cpuprofile`);
        await api.profileStop(file);
        await noteProfile(progress, `${tag} API profile`, file);
      }
      const others = meter.stop().others;
      const cpuMs = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user + b.system - a.user - a.system) / 1000;
      const delivered = watches.reduce((n, w) => n + w.latencyMs.size, 0);
      const apiCpuMs = cpuMs(api0, api1);
      const sockets = watches.flatMap((w) => [...w.sockets]);
      const run: ModeRun = {
        mode,
        updatesPerClient: watches.map((w) => w.latencyMs.size),
        missed: watches.reduce((n, w) => n + (s.updates - w.latencyMs.size), 0),
        duplicated: watches.reduce((n, w) => n + w.duplicates, 0),
        requests: watches.reduce((n, w) => n + w.requests, 0),
        bytesIn: sockets.reduce((n, socket) => n + socket.bytesRead, 0),
        bytesOut: sockets.reduce((n, socket) => n + socket.bytesWritten, 0),
        apiCpuMs: round(apiCpuMs),
        workerCpuMs: worker0 && worker1 ? round(cpuMs(worker0, worker1)) : Number.NaN,
        cpuUsPerUpdate: round((apiCpuMs * 1000) / delivered),
        latenciesMs: watches.flatMap((w) => [...w.latencyMs.values()]),
        othersCores: round(others, 2),
      };
      measuring.done(`${delivered} updates delivered, ${run.requests} requests, ${run.apiCpuMs} ms API CPU`);
      return run;
    } finally {
      await servers.stop();
    }
  });
}

const spread = (values: readonly number[]): string => {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max ? String(min) : `${min}–${max}`;
};
const ratio = (a: number, b: number): number => round(a / b, 1);

/** A mode over its rounds: the median round (by CPU per update), totals of what went wrong, latency of every round. */
interface ModeSummary {
  median: ModeRun;
  cpuUsPerRound: number[];
  updatesPerClient: number[];
  missed: number;
  duplicated: number;
  latencyMs: Summary;
}

function summarizeMode(runs: readonly ModeRun[]): ModeSummary {
  const byCpu = [...runs].sort((a, b) => a.cpuUsPerUpdate - b.cpuUsPerUpdate);
  return {
    median: byCpu[Math.floor((byCpu.length - 1) / 2)]!,
    cpuUsPerRound: runs.map((run) => run.cpuUsPerUpdate),
    updatesPerClient: runs.flatMap((run) => run.updatesPerClient),
    missed: runs.reduce((n, run) => n + run.missed, 0),
    duplicated: runs.reduce((n, run) => n + run.duplicated, 0),
    latencyMs: summarize(runs.flatMap((run) => run.latenciesMs)),
  };
}

function report(s: Settings, sse: ModeSummary, polling: ModeSummary): { tables: Table[]; breached: string[] } {
  const label = (m: ModeSummary): string => (m.median.mode === 'sse' ? 'streaming (SSE)' : `polling every ${s.intervalMs} ms`);
  const row = (m: ModeSummary): Array<string | number> => [
    label(m), spread(m.updatesPerClient), m.missed, m.duplicated, m.median.requests, round(m.median.bytesIn / 1024), round(m.median.bytesOut / 1024),
    m.median.apiCpuMs, m.median.cpuUsPerUpdate, m.cpuUsPerRound.join(' · '), m.latencyMs.p50, m.latencyMs.p95, m.latencyMs.p99, m.latencyMs.max,
  ];
  const cpuRatio = ratio(polling.median.cpuUsPerUpdate, sse.median.cpuUsPerUpdate);
  const p95Lower = sse.latencyMs.p95 < polling.latencyMs.p95;
  const breached: string[] = [];
  if (cpuRatio < TARGET_CPU_RATIO) breached.push(`streaming costs ${cpuRatio}× less API CPU per update than polling (target ≥ ${TARGET_CPU_RATIO}×)`);
  if (!p95Lower) breached.push(`streaming p95 latency ${sse.latencyMs.p95} ms is not below polling's ${polling.latencyMs.p95} ms`);
  for (const m of [sse, polling]) if (m.missed + m.duplicated > 0) breached.push(`${label(m)}: ${m.missed} updates missed, ${m.duplicated} duplicated (must be 0)`);
  const apart = s.backend !== 'pglite';
  const pair = (f: (m: ModeSummary) => number): string => `${f(sse)} (SSE) and ${f(polling)} (polling)`;
  return {
    breached,
    tables: [
      {
        title:
          `Streaming vs polling — ${s.clients} clients watch one job of ${s.updates} updates at ${s.rate}/s, ${s.rounds} round${s.rounds > 1 ? 's' : ''} ` +
          `(${s.backend}${apart ? ', API and worker in separate processes' : ', one process'})`,
        columns: ['mode', 'updates/client', 'missed', 'dup', 'requests', 'KiB in', 'KiB out', 'API CPU ms', 'CPU µs/update', 'each round', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
        rows: [row(sse), row(polling)],
        notes: [
          `API CPU: process.cpuUsage() of the ${apart ? 'API' : 'server'} process (all threads), from just before the enqueue until every client has the final event, ÷ updates delivered (clients × updates).`,
          'requests, KiB, API CPU and CPU µs/update are the median round\'s (by CPU per update; every round in "each round"); missed and dup are totals; latency percentiles pool every round.',
          "Latency: the worker's Date.now() in each partial → the client's receipt (same machine clock), first receipt of each update.",
          'KiB in/out: bytes the clients read from / wrote to their sockets (HTTP headers included). Every round of each mode ran on fresh server processes.',
          apart
            ? `The worker process (the same work in both modes) used ${pair((m) => m.median.workerCpuMs)} ms.`
            : 'On pglite the worker runs in the server process: its CPU (the same in both modes) is counted too.',
          `Other processes used ${pair((m) => m.median.othersCores)} cores on average during the median rounds.`,
        ],
      },
      {
        title: 'Polling ÷ streaming',
        columns: ['measure', 'streaming', 'polling', 'polling ÷ streaming', 'target', 'met'],
        rows: [
          ['API CPU µs per update', sse.median.cpuUsPerUpdate, polling.median.cpuUsPerUpdate, cpuRatio, `≥ ${TARGET_CPU_RATIO}×`, cpuRatio >= TARGET_CPU_RATIO ? 'yes' : 'NO'],
          ['latency p95 ms', sse.latencyMs.p95, polling.latencyMs.p95, ratio(polling.latencyMs.p95, sse.latencyMs.p95), 'streaming lower', p95Lower ? 'yes' : 'NO'],
          ['latency p50 ms', sse.latencyMs.p50, polling.latencyMs.p50, ratio(polling.latencyMs.p50, sse.latencyMs.p50), '', ''],
          ['HTTP requests', sse.median.requests, polling.median.requests, ratio(polling.median.requests, sse.median.requests), '', ''],
          ['KiB received', round(sse.median.bytesIn / 1024), round(polling.median.bytesIn / 1024), ratio(polling.median.bytesIn, sse.median.bytesIn), '', ''],
        ],
      },
    ],
  };
}

export const scenario: Scenario = {
  description: 'N clients watch one job: SSE streaming vs polling — API CPU per update, latency, requests, bytes',
  options: {
    clients: { type: 'string' },
    interval: { type: 'string' },
    updates: { type: 'string' },
    rate: { type: 'string' },
    rounds: { type: 'string' },
    backend: { type: 'string' },
    'wait-quiet': { type: 'string' },
    profile: { type: 'boolean' },
  },
  usage: [
    '--clients <n>      clients watching the job (default 5)',
    '--interval <ms>    polling interval, start to start (default 150)',
    '--updates <n>      partials the job emits (default 200; --quick 60)',
    '--rate <per s>     partials per second (default 20)',
    '--rounds <n>       rounds of both modes, each on fresh processes; the median is reported (default 3; --quick 1)',
    '--backend <name>   postgres (default), redis: API and worker apart; pglite: one process',
    '--wait-quiet <s>   wait up to this long for a quiet machine before each measurement (default 30; --quick 0)',
    '--profile          CPU-profile the API process in each measured run (files in the results folder)',
  ],
  async run({ quick, values, progress, resultsDir }) {
    const s = { ...settings(quick, values), profileDir: values.profile === true ? resultsDir : undefined };
    const runs: Record<Mode, ModeRun[]> = { sse: [], polling: [] };
    // Modes alternate, so a noisy stretch on a shared machine hits both alike.
    for (let n = 1; n <= s.rounds; n++) {
      for (const mode of ['sse', 'polling'] as const) runs[mode].push(await runRound(mode, n, s, progress));
    }
    const { tables, breached } = report(s, summarizeMode(runs.sse), summarizeMode(runs.polling));
    // Raw latencies stay out of the JSON: the percentiles are in the tables.
    const data = Object.fromEntries(Object.entries(runs).map(([mode, list]) => [mode, list.map(({ latenciesMs, ...run }) => ({ ...run, latencyMs: summarize(latenciesMs) }))]));
    return { tables, data: { settings: s, runs: data }, breached };
  },
};
