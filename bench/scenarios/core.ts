// The core figures: jobs accepted per second over HTTP, jobs completed per
// second, enqueue→completion latency, and how soon `npm start` is ready — on
// embedded PGlite and on PostgreSQL, with Taskyard in a process of its own.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startBenchServer, type BenchServer, type BenchServerOptions } from '../lib/bench-server.js';
import { summarizeProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { completionStats, type CompletionStats } from '../lib/job-stats.js';
import { jobsAfter, newestJobId, waitUntilDrained } from '../lib/jobs-api.js';
import { postLoad, type LoadResult } from '../lib/load.js';
import { CpuMeter, peakRssMiB, type CpuShare } from '../lib/processes.js';
import type { Progress } from '../lib/progress.js';
import { measureReady, privateBuild, type ReadySample } from '../lib/ready.js';
import type { OptionValues, Scenario } from '../lib/scenario.js';
import { median, round } from '../lib/stats.js';
import type { Table } from '../lib/table.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TASK = 'bench-noop';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BACKENDS = ['pglite', 'postgres'] as const;
type Backend = (typeof BACKENDS)[number];

interface Settings {
  backends: Backend[];
  /** The first runs every phase; the others run the batch phase only. */
  concurrencies: number[];
  durationS: number;
  connections: number;
  batch: number;
  warmup: number;
  pacedS: number;
  readyRounds: number;
  profile: boolean;
  ready: boolean;
  drainTimeoutMs: number;
}

function settings(quick: boolean, values: OptionValues): Settings {
  const list = (value: unknown, fallback: string): string[] =>
    String(value ?? fallback)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const positive = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const backends = list(values.backends, BACKENDS.join(','));
  for (const backend of backends) {
    if (!(BACKENDS as readonly string[]).includes(backend)) throw new Error(`--backends: unknown backend "${backend}" (${BACKENDS.join(', ')})`);
  }
  return {
    backends: backends as Backend[],
    concurrencies: list(values.concurrency, '4,16').map((value) => positive('concurrency', value, 4)),
    durationS: positive('duration', values.duration, quick ? 3 : 10),
    connections: positive('connections', values.connections, 50),
    batch: positive('batch', values.batch, quick ? 300 : 2000),
    warmup: quick ? 50 : 200,
    pacedS: quick ? 2 : 5,
    readyRounds: quick ? 1 : 3,
    profile: values.profile === true,
    ready: values['skip-ready'] !== true,
    drainTimeoutMs: 600_000,
  };
}

interface PhaseResult {
  load: LoadResult;
  completion: CompletionStats;
  drained: boolean;
  /** Load start → all finished. */
  phaseS: number;
  /** Average cores used over the phase: by the server, the harness, and everything else. */
  cpu: CpuShare;
  profile?: ProfileSummary;
}

interface ServerRun {
  backend: Backend;
  concurrency: number;
  serverStartMs: number;
  serverPeakRssMiB: number;
  batch: PhaseResult;
  http?: PhaseResult;
  paced?: PhaseResult & { rate: number };
}

/** Fresh storage for one server: a new PGlite dir, or new schemas on PostgreSQL. */
async function withStorage<T>(backend: Backend, fn: (storage: BenchServerOptions) => Promise<T>): Promise<T> {
  if (backend === 'pglite') {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskyard-bench-'));
    try {
      return await fn({ dataDir });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const suffix = randomBytes(4).toString('hex');
  const storage = { databaseUrl: DATABASE_URL, historySchema: `bench_ty_${suffix}`, engineSchema: `bench_bq_${suffix}` };
  try {
    return await fn(storage);
  } finally {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      for (const schema of [storage.historySchema, storage.engineSchema]) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  }
}

async function runPhase(
  server: BenchServer,
  s: Settings,
  progress: Progress,
  label: string,
  load: { durationS?: number; amount?: number; overallRate?: number; connections?: number },
  profileFile?: string,
): Promise<PhaseResult> {
  const marker = await newestJobId(server.url, TASK);
  const cpu = new CpuMeter(server.pid);
  if (profileFile) await server.profileStart();
  const t0 = performance.now();
  cpu.start();
  const line = progress.phase(label);
  try {
    const loadResult = await postLoad({ url: `${server.url}/v1/tasks/${TASK}/jobs`, body: { input: {} }, connections: load.connections ?? s.connections, ...load }, line);
    const drained = await waitUntilDrained(server.url, TASK, {
      timeoutMs: s.drainTimeoutMs,
      onPoll: (left) => line.update(`${loadResult.ok} accepted; draining, ${left.count}${left.capped ? '+' : ''} unfinished`),
    });
    const phaseS = (performance.now() - t0) / 1000;
    const cpuShare = cpu.stop();
    const profile = profileFile ? await server.profileStop(profileFile).then(() => summarizeProfile(profileFile)) : undefined;
    line.update('reading the jobs back from GET /v1/jobs');
    const jobs = await jobsAfter(server.url, TASK, marker);
    const completion = completionStats(jobs);
    line.done(
      `${loadResult.ok} accepted (${round(loadResult.okPerS)}/s), ${completion.completed} completed (${round(completion.completedPerS)}/s busy window)` +
        `${drained ? '' : ' — NOT DRAINED'}`,
    );
    return { load: loadResult, completion, drained, phaseS, cpu: cpuShare, ...(profile ? { profile } : {}) };
  } catch (error) {
    line.fail(error);
    throw error;
  }
}

async function serverRun(backend: Backend, concurrency: number, full: boolean, s: Settings, progress: Progress, resultsDir: string): Promise<ServerRun> {
  return withStorage(backend, async (storage) => {
    const tag = `${backend} c=${concurrency}`;
    const line = progress.phase(`[${tag}] starting the server`);
    let server: BenchServer;
    try {
      server = await startBenchServer({ ...storage, concurrency, logLevel: 'warn' });
      line.done(`${server.url} (${Math.round(server.startMs)} ms)`);
    } catch (error) {
      line.fail(error);
      throw error;
    }
    try {
      // JIT, thread pool and table caches warm, so the phases measure steady state.
      await runPhase(server, s, progress, `[${tag}] warm-up, ${s.warmup} jobs`, { amount: s.warmup });
      const profileFile = (phase: string): string | undefined => (s.profile ? path.join(resultsDir, `core-${backend}-c${concurrency}-${phase}.cpuprofile`) : undefined);
      const batch = await runPhase(server, s, progress, `[${tag}] (b) batch of ${s.batch} jobs, then drain`, { amount: s.batch }, profileFile('batch'));
      const run: ServerRun = { backend, concurrency, serverStartMs: round(server.startMs), serverPeakRssMiB: 0, batch };
      if (full) {
        run.http = await runPhase(
          server,
          s,
          progress,
          `[${tag}] (a) HTTP load, ${s.connections} connections, ${s.durationS} s, then drain`,
          { durationS: s.durationS },
          profileFile('http'),
        );
        // Half the measured capacity, capped: latency when the queue is not the bottleneck.
        const rate = Math.max(10, Math.min(250, Math.round(batch.completion.completedPerS / 2 / 10) * 10));
        run.paced = {
          rate,
          ...(await runPhase(server, s, progress, `[${tag}] (c) paced at ${rate} jobs/s for ${s.pacedS} s`, {
            overallRate: rate,
            durationS: s.pacedS,
            connections: 10,
          })),
        };
      }
      run.serverPeakRssMiB = round(peakRssMiB(server.pid));
      return run;
    } finally {
      const stopping = progress.phase(`[${tag}] stopping the server`);
      const code = await server.stop();
      stopping.done(`exit ${code}`);
    }
  });
}

interface ReadyResult {
  /** tsc's errors when the checkout did not type-check (it was measured all the same). */
  buildWarnings: string | null;
  fresh: ReadySample[];
  again: ReadySample[];
}

async function readyTimes(s: Settings, progress: Progress): Promise<ReadyResult> {
  const building = progress.phase('(d) ready: building the checkout into a temporary copy');
  let build: Awaited<ReturnType<typeof privateBuild>>;
  try {
    build = await privateBuild(ROOT);
    building.done(build.warnings ? 'built, WITH TYPE ERRORS (measured anyway)' : 'built');
  } catch (error) {
    building.fail(error);
    throw error;
  }
  const result: ReadyResult = { buildWarnings: build.warnings, fresh: [], again: [] };
  try {
    for (let round = 1; round <= s.readyRounds; round++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskyard-bench-ready-'));
      try {
        for (const [kind, samples] of [
          ['fresh data dir', result.fresh],
          ['same data dir again', result.again],
        ] as const) {
          const line = progress.phase(`(d) ready, round ${round}/${s.readyRounds}, ${kind}`);
          try {
            const sample = await measureReady(build.dir, dataDir);
            samples.push(sample);
            line.done(`${Math.round(sample.readyMs)} ms`);
          } catch (error) {
            line.fail(error);
            throw error;
          }
        }
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await build.remove();
  }
  return result;
}

const ms = (value: number): number => round(value, 0);

function tables(s: Settings, runs: readonly ServerRun[], ready: ReadyResult | undefined): Table[] {
  const full = runs.filter((run) => run.http && run.paced);
  const out: Table[] = [
    {
      title: `(a) Accepted over HTTP — POST /v1/tasks/${TASK}/jobs, ${s.connections} connections, ${s.durationS} s`,
      columns: ['backend', 'conc', 'accepted/s', 'HTTP p50 ms', 'HTTP p99 ms', 'non-2xx', 'errors', 'server cores', 'other cores'],
      rows: full.map((run) => [
        run.backend,
        run.concurrency,
        round(run.http!.load.okPerS),
        run.http!.load.latencyMs.p50,
        run.http!.load.latencyMs.p99,
        run.http!.load.non2xx,
        run.http!.load.errors + run.http!.load.timeouts,
        round(run.http!.cpu.server, 2),
        round(run.http!.cpu.others, 2),
      ]),
      notes: [
        'accepted/s = 2xx answers / load duration (autocannon). HTTP latency is per request, client side.',
        'server cores: CPU the server process used (all threads) over load + drain, 1.0 = one core busy;',
        'other cores: CPU used by other processes on the machine meanwhile (PostgreSQL counts here): noise unless it is the database.',
      ],
    },
    {
      title: `(b) Completed — a batch of ${s.batch} jobs enqueued as fast as possible, then drained`,
      columns: ['backend', 'conc', 'enqueue/s', 'completed/s', 'e2e/s', 'e2e p50 ms', 'e2e p95 ms', 'e2e p99 ms', 'run p50 ms', 'failed', 'server cores', 'other cores'],
      rows: runs.map((run) => [
        run.backend,
        run.concurrency,
        round(run.batch.load.okPerS),
        round(run.batch.completion.completedPerS),
        round(run.batch.completion.endToEndPerS),
        ms(run.batch.completion.latencyMs.enqueueToFinish.p50),
        ms(run.batch.completion.latencyMs.enqueueToFinish.p95),
        ms(run.batch.completion.latencyMs.enqueueToFinish.p99),
        ms(run.batch.completion.latencyMs.run.p50),
        run.batch.completion.failed + run.batch.completion.unfinished,
        round(run.batch.cpu.server, 2),
        round(run.batch.cpu.others, 2),
      ]),
      notes: [
        'completed/s = completed jobs / (first startedAt → last finishedAt); e2e/s = / (first createdAt → last finishedAt).',
        'e2e = createdAt → finishedAt per job: with the whole batch queued at once it is mostly time in the queue.',
        'run = startedAt → finishedAt (sandbox round trip + the progress and completion writes).',
      ],
    },
    {
      title: `(a') Completed — the jobs of the HTTP load (a), until drained`,
      columns: ['backend', 'conc', 'accepted', 'done/s while accepting', 'backlog at end', 'drain s', 'completed/s', 'e2e p50 s', 'e2e p99 s', 'failed'],
      rows: full.map((run) => {
        const c = run.http!.completion;
        return [
          run.backend,
          run.concurrency,
          c.jobs,
          round(c.completedWhileAcceptingPerS),
          c.backlogAtAcceptEnd,
          round(run.http!.phaseS - run.http!.load.durationS),
          round(c.completedPerS),
          round(c.latencyMs.enqueueToFinish.p50 / 1000, 2),
          round(c.latencyMs.enqueueToFinish.p99 / 1000, 2),
          c.failed + c.unfinished,
        ];
      }),
      notes: ['done/s while accepting = jobs finished by the last createdAt / accept window: throughput with the API under load.'],
    },
    {
      title: '(c) Enqueue → completion latency at a steady rate (half the batch throughput, at most 250/s; 10 connections)',
      columns: ['backend', 'conc', 'jobs/s', 'e2e p50 ms', 'e2e p95 ms', 'e2e p99 ms', 'wait p50 ms', 'run p50 ms', 'HTTP p50 ms', 'HTTP p99 ms'],
      rows: full.map((run) => {
        const c = run.paced!.completion;
        return [
          run.backend,
          run.concurrency,
          run.paced!.rate,
          ms(c.latencyMs.enqueueToFinish.p50),
          ms(c.latencyMs.enqueueToFinish.p95),
          ms(c.latencyMs.enqueueToFinish.p99),
          ms(c.latencyMs.wait.p50),
          ms(c.latencyMs.run.p50),
          run.paced!.load.latencyMs.p50,
          run.paced!.load.latencyMs.p99,
        ];
      }),
      notes: ['wait = createdAt → startedAt (in the queue); times are the database clock, ms resolution.'],
    },
  ];
  if (ready) {
    const row = (label: string, samples: readonly ReadySample[]): Array<string | number | null> => [
      label,
      ms(median(samples.map((sample) => sample.readyMs))),
      samples.map((sample) => Math.round(sample.readyMs)).join(', '),
      median(samples.flatMap((sample) => (sample.reportedS === null ? [] : [sample.reportedS]))),
    ];
    out.push({
      title: `(d) Ready — spawn \`node bin/taskyard.js start\` → first 200 from GET /ready (built-in tasks, embedded PGlite)`,
      columns: ['start', 'median ms', 'samples ms', 'CLI says s'],
      rows: [row('fresh data dir', ready.fresh), row('same data dir again', ready.again)],
      notes: [
        'target: < 3000 ms. Measured on a build of the checkout in a temporary folder (the build is not timed).',
        ...(ready.buildWarnings ? ['The checkout had type errors when built; tsc emitted the JavaScript anyway.'] : []),
      ],
    });
  }
  for (const run of runs) {
    for (const [phase, result] of [
      ['batch', run.batch],
      ['http', run.http],
    ] as const) {
      if (!result?.profile) continue;
      const p = result.profile;
      out.push({
        title: `CPU profile, server main thread — ${run.backend} c=${run.concurrency}, ${phase} phase (${p.totalMs} ms, ${p.busyPercent}% busy)`,
        columns: ['self %', 'self ms', 'owner', 'frame'],
        rows: p.topFrames.map((frame) => [frame.percent, frame.selfMs, frame.owner, frame.frame]),
        notes: [`by owner: ${p.byOwner.slice(0, 8).map((owner) => `${owner.owner} ${owner.percent}%`).join(', ')}`],
      });
    }
  }
  return out.filter((table) => table.rows.length > 0);
}

export const scenario: Scenario = {
  description: 'accepted and completed jobs/s, enqueue→completion latency, time to /ready (PGlite and PostgreSQL)',
  options: {
    backends: { type: 'string' },
    concurrency: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    batch: { type: 'string' },
    profile: { type: 'boolean' },
    'skip-ready': { type: 'boolean' },
  },
  usage: [
    '--backends pglite,postgres   which backends (default both)',
    '--concurrency 4,16           worker concurrency per queue; the first runs every phase, the rest the batch phase only',
    '--duration 10 --connections 50 --batch 2000   phase sizes (--quick: 3 s, 300 jobs)',
    '--profile                    V8 CPU profile of the server during (a) and (b); top frames printed (slows the server)',
    '--skip-ready                 skip the `npm start` ready-time measurement',
  ],
  async run({ quick, values, progress, resultsDir }) {
    const s = settings(quick, values);
    const runs: ServerRun[] = [];
    for (const backend of s.backends) {
      for (const [i, concurrency] of s.concurrencies.entries()) {
        runs.push(await serverRun(backend, concurrency, i === 0, s, progress, resultsDir));
      }
    }
    const ready = s.ready ? await readyTimes(s, progress) : undefined;
    return {
      tables: tables(s, runs, ready),
      data: {
        settings: s,
        task: TASK,
        targets: { embeddedCompletedPerS: 500, readyMs: 3000 },
        runs,
        ...(ready ? { ready } : {}),
      },
    };
  },
};
