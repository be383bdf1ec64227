// End-to-end latency as a client sees it: jobs submitted at a fixed arrival rate
// (open loop), each followed over the WebSocket, timed from its 202 to its
// `completed` event at the client — on each backend, Taskyard in a process of its own.
import path from 'node:path';
import { startBenchServer, type BenchServer } from '../lib/bench-server.js';
import { writeLineChart } from '../lib/chart.js';
import { positiveInt, positiveIntList } from '../lib/flags.js';
import { pacedLoad } from '../lib/paced.js';
import { CpuSplit, type CoreSplit } from '../lib/cpu-split.js';
import { quietFor } from '../lib/processes.js';
import type { Progress } from '../lib/progress.js';
import type { OptionValues, Scenario } from '../lib/scenario.js';
import { round, summarize, type Summary } from '../lib/stats.js';
import { STORAGE_BACKENDS, parseBackend, withStorage, type StorageBackend } from '../lib/storage.js';
import type { Table } from '../lib/table.js';
import { CompletionFollower } from '../lib/ws-completions.js';

const TASK = 'bench-noop';
/** Admission control out of the way: a backlog shows as latency, not as 429s. */
const MAX_WAITING = 1_000_000_000;

interface Settings {
  backends: StorageBackend[];
  rates: number[];
  durationS: number;
  concurrency: number;
  warmup: { rate: number; durationS: number };
  /** After the last arrival, how long the jobs still out may take to end before they count as lost. */
  settleS: number;
  waitQuietS: number;
}

function settings(quick: boolean, values: OptionValues): Settings {
  const backend = String(values.backend ?? 'all');
  return {
    backends: backend === 'all' ? [...STORAGE_BACKENDS] : backend.split(',').map((name) => parseBackend(name.trim())),
    rates: positiveIntList('rate', values.rate, quick ? '50' : '50,200'),
    durationS: positiveInt('duration', values.duration, quick ? 3 : 20),
    concurrency: positiveInt('concurrency', values.concurrency, 4),
    warmup: quick ? { rate: 50, durationS: 1 } : { rate: 50, durationS: 4 },
    settleS: 60,
    waitQuietS: values['wait-quiet'] === undefined ? (quick ? 0 : 15) : Number(values['wait-quiet']),
  };
}

interface RateRun {
  backend: StorageBackend;
  concurrency: number;
  rate: number;
  submitted: number;
  accepted: number;
  /** Refused (non-2xx) or not answered. */
  refused: number;
  completed: number;
  failed: number;
  lost: number;
  /** Arrivals per second actually sent (submitted / first → last send). */
  arrivalPerS: number;
  /** How late the latest arrival went out against its schedule, ms (the client's own lag). */
  maxLagMs: number;
  /** 202 → `completed` event at the client, ms. */
  e2eMs: Summary;
  /** POST → 202, ms. */
  httpMs: Summary;
  /** Cores by process over the phase: server, harness, postgres, redis, others. */
  cpu: CoreSplit;
  problems: string[];
}

/** One phase at `rate`: arrivals for `durationS`, then until every accepted job has ended (or settleS). */
async function ratePhase(server: BenchServer, follower: CompletionFollower, backend: StorageBackend, s: Settings, rate: number, durationS: number, label: string, progress: Progress): Promise<RateRun> {
  const line = progress.phase(label);
  try {
    await quietFor(s.waitQuietS, [server.pid], (text) => line.update(text));
    follower.reset();
    const cpu = new CpuSplit({ server: [server.pid] });
    cpu.start();
    const follows: Array<Promise<void>> = [];
    const load = await pacedLoad(
      {
        url: `${server.url}/v1/tasks/${TASK}/jobs`,
        body: { input: {} },
        rate,
        durationS,
        onAccepted: (body, answeredAt) => follows.push(follower.follow((JSON.parse(body) as { id: string }).id, answeredAt)),
      },
      line,
    );
    await Promise.all(follows);
    line.update(`${load.ok} accepted; waiting for their completed events`);
    const outcome = await follower.settle(s.settleS * 1000);
    const cpuShare = cpu.stop();
    const e2eMs = summarize(outcome.latencyMs);
    const run: RateRun = {
      backend,
      concurrency: s.concurrency,
      rate,
      submitted: load.requests,
      accepted: load.ok,
      refused: load.non2xx + load.errors,
      completed: outcome.completed,
      failed: outcome.failed,
      lost: outcome.lost,
      arrivalPerS: load.requests / load.sendS,
      maxLagMs: load.maxLagMs,
      e2eMs,
      httpMs: load.responseMs,
      cpu: cpuShare,
      problems: outcome.problems.slice(0, 20),
    };
    line.done(
      `${run.completed}/${run.submitted} completed, ${run.lost} lost; e2e p50 ${round(e2eMs.p50)} / p95 ${round(e2eMs.p95)} / p99 ${round(e2eMs.p99)} ms` +
        `${run.problems.length ? ` — ${run.problems.length} problems: ${run.problems[0]}` : ''}`,
    );
    return run;
  } catch (error) {
    line.fail(error);
    throw error;
  }
}

async function backendRun(backend: StorageBackend, s: Settings, progress: Progress): Promise<RateRun[]> {
  return withStorage(backend, async (storage) => {
    const tag = `[${backend} c=${s.concurrency}]`;
    const starting = progress.phase(`${tag} starting the server`);
    let server: BenchServer;
    try {
      server = await startBenchServer({ ...storage, concurrency: s.concurrency, maxWaiting: MAX_WAITING, logLevel: 'warn' });
      starting.done(`${server.url} (${Math.round(server.startMs)} ms)`);
    } catch (error) {
      starting.fail(error);
      throw error;
    }
    const follower = new CompletionFollower(server.url);
    try {
      // Sandbox threads, JIT and caches warm; the WebSocket open.
      await ratePhase(server, follower, backend, { ...s, waitQuietS: 0 }, s.warmup.rate, s.warmup.durationS, `${tag} warm-up, ${s.warmup.rate} jobs/s for ${s.warmup.durationS} s`, progress);
      const runs: RateRun[] = [];
      for (const rate of s.rates) runs.push(await ratePhase(server, follower, backend, s, rate, s.durationS, `${tag} ${rate} jobs/s for ${s.durationS} s`, progress));
      return runs;
    } finally {
      follower.close();
      const stopping = progress.phase(`${tag} stopping the server`);
      stopping.done(`exit ${await server.stop()}`);
    }
  });
}

function tables(s: Settings, runs: readonly RateRun[]): Table[] {
  const ms = (value: number): number => round(value, 1);
  return [
    {
      title: `End-to-end latency — ${TASK} POSTed at a fixed rate for ${s.durationS} s; 202 → its \`completed\` event at the client (WebSocket), ms`,
      columns: ['backend', 'conc', 'rate/s', 'sent/s', 'submitted', 'completed', 'lost', 'refused', 'e2e p50', 'e2e p95', 'e2e p99', 'e2e max', 'HTTP p50', 'HTTP p95', 'HTTP p99', 'server cores', 'postgres', 'redis', 'other cores'],
      rows: runs.map((run) => [
        run.backend,
        run.concurrency,
        run.rate,
        round(run.arrivalPerS, 1),
        run.submitted,
        run.completed,
        run.lost,
        run.refused,
        ms(run.e2eMs.p50),
        ms(run.e2eMs.p95),
        ms(run.e2eMs.p99),
        ms(run.e2eMs.max),
        ms(run.httpMs.p50),
        ms(run.httpMs.p95),
        ms(run.httpMs.p99),
        ...(['server', 'postgres', 'redis', 'others'] as const).map((key) => round(run.cpu[key] ?? Number.NaN, 2)),
      ]),
      notes: [
        'Open loop: one POST every 1/rate s from the harness process, whether or not earlier ones were answered (sent/s is what went out).',
        'Each 202 subscribes its job on a WebSocket (`{ subscribe, after: 0 }`, one socket for up to 900 jobs); e2e = 202 received → terminal status event received.',
        `lost: accepted, but no terminal event within ${s.settleS} s after the last arrival; refused: non-2xx or no answer.`,
        'One Taskyard process (API, worker, projector), started from source; history in PGlite or PostgreSQL; the harness runs on the same 2 cores.',
        'cores over the phase (1.0 = one core busy): the Taskyard process; the PostgreSQL and Redis servers (shared: others\' work on them counts too); everything else but the harness.',
      ],
    },
    {
      title: 'Against the targets',
      columns: ['target', 'measured', ''],
      rows: runs.map((run) => [
        `every accepted job's completed event reaches the client, ${run.backend} at ${run.rate}/s`,
        `${run.completed} of ${run.accepted} (${run.lost} lost, ${run.failed} failed, ${run.refused} refused)`,
        run.lost === 0 && run.failed === 0 && run.refused === 0 ? 'met' : 'MISSED',
      ]),
    },
  ];
}

export const scenario: Scenario = {
  description: 'end-to-end latency at a fixed arrival rate: 202 → completed event at a WebSocket client, p50/p95/p99, on each backend',
  options: {
    backend: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    concurrency: { type: 'string' },
    'wait-quiet': { type: 'string' },
  },
  usage: [
    '--backend all          pglite | postgres | redis | all (each in turn, a fresh server each)',
    '--rate 50,200          arrivals per second, one phase each (--quick: 50)',
    '--duration 20          seconds of arrivals per phase (--quick: 3)',
    '--concurrency 4        worker concurrency of the server',
    '--wait-quiet 15        before each phase, wait up to N s for other processes to use < 0.25 cores (--quick: 0)',
  ],
  async run({ quick, values, progress, resultsDir }) {
    const s = settings(quick, values);
    const runs: RateRun[] = [];
    for (const backend of s.backends) runs.push(...(await backendRun(backend, s, progress)));
    const chart = await writeLineChart(resultsDir, 'e2e-latency', {
      title: '202 → completed event at the client, by percentile',
      points: runs.flatMap((run) =>
        ([50, 95, 99] as const).map((p) => ({ percentile: p, ms: round(run.e2eMs[`p${p}`], 1), series: `${run.backend} at ${run.rate}/s` })),
      ),
      x: { field: 'percentile', title: 'percentile' },
      y: { field: 'ms', title: 'ms (log)', log: true },
      series: 'series',
    });
    progress.note(`chart: ${path.relative(process.cwd(), chart)}`);
    const breached = runs
      .filter((run) => run.lost > 0 || run.failed > 0 || run.refused > 0)
      .map((run) => `${run.backend} at ${run.rate}/s: ${run.lost} lost, ${run.failed} failed, ${run.refused} refused`);
    return {
      tables: tables(s, runs),
      data: { settings: s, task: TASK, runs, chart: path.basename(chart) },
      breached,
    };
  },
};
