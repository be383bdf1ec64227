// How a `redis` run is recorded (the JSON) and shown (the tables).
import type { CoreSplit } from './cpu-split.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { LoadResult } from './load.js';
import type { RawBatch } from './bull-queues.js';
import type { RedisPerJob } from './redis-stats.js';
import { round } from './stats.js';
import type { Table } from './table.js';

export const TASK = 'bench-noop';
/** Taskyard on Redis must complete at least this share of raw BullMQ's jobs/s… */
export const TARGET_RATIO = 0.7;
/** …and its API accept this many jobs/s… */
export const TARGET_ACCEPTED_PER_S = 10_000;
/** …with this HTTP p99. */
export const TARGET_P99_MS = 20;

export interface Settings {
  concurrencies: number[];
  /** Jobs per measured batch, the same for raw BullMQ and Taskyard. */
  jobs: number;
  warmup: number;
  /** How many API processes share the HTTP load, one run each (e.g. 1 and 2). */
  apiProcesses: number[];
  connections: number;
  durationS: number;
  /** Connections that enqueue a Taskyard batch over HTTP (not timed as throughput). */
  enqueueConnections: number;
  profile: boolean;
  waitQuietS: number;
  timeoutMs: number;
}

export interface TaskyardBatch {
  /** The warm-up batch, resume → done and the worker idle again: at high concurrency mostly starting the sandbox threads. */
  warmupS: number;
  /** Warm-up done → resume. Past 60 s piscina has ended the idle sandbox threads, and the batch pays for new ones. */
  idleS: number;
  /** The worker process's peak resident memory: the sandbox threads, one per slot. */
  workerPeakRssMiB: number;
  jobs: number;
  completed: number;
  failed: number;
  /** How fast the batch went in over HTTP (POST → 202), before the queue was resumed. */
  enqueuePerS: number;
  /** Resume → the last job completed in history (the projector's commit, PostgreSQL clock). */
  seconds: number;
  completedPerS: number;
  /** Resume → the last `completed` event a worker wrote to Redis: the workers alone, without the projector's lag. */
  workerSeconds: number;
  workerCompletedPerS: number;
}

export interface CompletionRun {
  concurrency: number;
  /** cores: average over `cpuWindowS` (resume → the harness saw the last job done). */
  raw: RawBatch & { cores: CoreSplit; cpuWindowS: number; redis: RedisPerJob };
  taskyard: TaskyardBatch & { cores: CoreSplit; cpuWindowS: number; redis: RedisPerJob; profiles?: Record<string, ProfileSummary> };
  ratio: number;
}

export interface HttpRun {
  processes: number;
  load: LoadResult;
  cores: CoreSplit;
  profile?: ProfileSummary;
}

const cores = (split: CoreSplit, key: string): number => round(split[key] ?? Number.NaN, 2);

export function targets(completion: readonly CompletionRun[], http: readonly HttpRun[]): Array<{ target: string; measured: string; met: boolean }> {
  const out: Array<{ target: string; measured: string; met: boolean }> = [];
  for (const run of completion) {
    out.push({
      target: `Taskyard completed/s ≥ ${TARGET_RATIO * 100} % of raw BullMQ, concurrency ${run.concurrency}`,
      measured: `${round(run.ratio * 100)} % (${round(run.taskyard.completedPerS)} vs ${round(run.raw.completedPerS)} jobs/s)`,
      met: run.ratio >= TARGET_RATIO,
    });
  }
  for (const run of http) {
    const p99 = run.load.responseMs.p99;
    out.push({
      target: `API ≥ ${TARGET_ACCEPTED_PER_S.toLocaleString('en-US')} accepted/s with p99 < ${TARGET_P99_MS} ms, ${run.processes} API process${run.processes > 1 ? 'es' : ''}`,
      measured: `${round(run.load.okPerS)}/s, p99 ${round(p99)} ms`,
      met: run.load.okPerS >= TARGET_ACCEPTED_PER_S && p99 < TARGET_P99_MS && run.load.non2xx === 0,
    });
  }
  return out;
}

export function tables(s: Settings, completion: readonly CompletionRun[], http: readonly HttpRun[]): Table[] {
  const out: Table[] = [
    {
      title: `(a) Completed — ${s.jobs.toLocaleString('en-US')} no-op jobs queued first, then the queue resumed; resume → last completed`,
      columns: ['conc', 'raw BullMQ/s', 'Taskyard/s', 'ratio', `≥ ${TARGET_RATIO * 100} %`, 'TY workers only/s', 'TY enqueue/s', 'TY warm-up s', 'TY worker MiB', 'failed', 'raw cores', 'TY worker cores', 'TY api cores', 'postgres', 'redis', 'other'],
      rows: completion.map((run) => [
        run.concurrency,
        round(run.raw.completedPerS),
        round(run.taskyard.completedPerS),
        round(run.ratio, 3),
        run.ratio >= TARGET_RATIO ? 'met' : 'MISSED',
        round(run.taskyard.workerCompletedPerS),
        round(run.taskyard.enqueuePerS),
        round(run.taskyard.warmupS, 1),
        Math.round(run.taskyard.workerPeakRssMiB),
        run.raw.failed + run.taskyard.failed + (run.taskyard.jobs - run.taskyard.completed - run.taskyard.failed),
        cores(run.raw.cores, 'harness'),
        cores(run.taskyard.cores, 'worker'),
        cores(run.taskyard.cores, 'api'),
        cores(run.taskyard.cores, 'postgres'),
        cores(run.taskyard.cores, 'redis'),
        cores(run.taskyard.cores, 'others'),
      ]),
      notes: [
        'raw: a BullMQ Queue (addBulk) + Worker with a no-op processor, in the harness process; `completed` events counted there.',
        'Taskyard: one `api` process (history, projector) + one `worker` process, bench-noop (one ctx.progress, sandboxed in a worker thread);',
        '  jobs POSTed to the API (enqueue/s) while the queue was paused; done = completed in the PostgreSQL history.',
        'TY workers only/s: resume → the last `completed` event written to Redis (the projector\'s lag left out).',
        `TY warm-up s: the ${s.warmup} warm-up jobs, resume → done and the worker idle; at high concurrency mostly piscina starting one sandbox thread per slot;`,
        'TY worker MiB: the worker process\'s peak RSS (those threads).',
        'cores: average over the timed window (1.0 = one core busy); postgres/redis/other columns are those of the Taskyard run.',
        ...completion
          .filter((run) => run.taskyard.idleS > 55)
          .map((run) => `c=${run.concurrency}: the queue was resumed ${Math.round(run.taskyard.idleS)} s after the warm-up; piscina may have ended idle threads (60 s), so the batch paid for new ones.`),
      ],
    },
    {
      title: '(a\u2032) Cost per completed job during (a): CPU ms (from /proc) and Redis commands (INFO commandstats)',
      columns: ['conc', 'raw: process ms', 'redis ms', 'total ms', 'commands', 'scripts', 'TY: worker ms', 'api ms', 'postgres ms', 'redis ms', 'total ms', 'commands', 'scripts', 'TY top Redis commands (calls/job)'],
      rows: completion.map((run) => {
        const rawMs = (key: string): number => round(((run.raw.cores[key] ?? Number.NaN) * run.raw.cpuWindowS * 1000) / run.raw.completed, 3);
        const tyMs = (key: string): number => round(((run.taskyard.cores[key] ?? Number.NaN) * run.taskyard.cpuWindowS * 1000) / run.taskyard.completed, 3);
        return [
          run.concurrency,
          rawMs('harness'),
          rawMs('redis'),
          round(rawMs('harness') + rawMs('redis'), 3),
          run.raw.redis.calls,
          run.raw.redis.scripts,
          tyMs('worker'),
          tyMs('api'),
          tyMs('postgres'),
          tyMs('redis'),
          round(tyMs('worker') + tyMs('api') + tyMs('postgres') + tyMs('redis'), 3),
          run.taskyard.redis.calls,
          run.taskyard.redis.scripts,
          run.taskyard.redis.top
            .slice(0, 6)
            .map((row) => `${row.command} ${row.calls}`)
            .join(', '),
        ];
      }),
      notes: [
        'ms: CPU time (all threads) over the timed window / completed jobs. raw process = the harness, where the raw Worker runs.',
        'commands: every command Redis ran per job, those inside Lua scripts included; scripts: EVALSHA round trips per job.',
        'postgres, redis and the Redis counts are server-wide: anything else using them meanwhile adds to them (see `other` in (a)).',
      ],
    },
    {
      title: `(b) Accepted over HTTP — POST /v1/tasks/${TASK}/jobs, ${s.connections} connections, ${s.durationS} s, no workers running`,
      columns: ['API processes', 'accepted/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'targets', 'api cores', 'harness', 'postgres', 'redis', 'other'],
      rows: http.map((run) => [
        run.processes,
        round(run.load.okPerS),
        round(run.load.responseMs.p50, 1),
        round(run.load.responseMs.p95, 1),
        round(run.load.responseMs.p99, 1),
        round(run.load.responseMs.max, 1),
        run.load.non2xx,
        run.load.errors + run.load.timeouts,
        run.load.okPerS >= TARGET_ACCEPTED_PER_S && run.load.responseMs.p99 < TARGET_P99_MS && run.load.non2xx === 0 ? 'met' : 'MISSED',
        cores(run.cores, 'api'),
        cores(run.cores, 'harness'),
        cores(run.cores, 'postgres'),
        cores(run.cores, 'redis'),
        cores(run.cores, 'others'),
      ]),
      notes: [
        `targets: ≥ ${TARGET_ACCEPTED_PER_S.toLocaleString('en-US')} accepted/s and p99 < ${TARGET_P99_MS} ms. Latency per request, client side (autocannon, in the harness, on the same 2 cores).`,
        'Several API processes: one autocannon spreads its connections over their URLs round-robin. Each 202 is one history row + one BullMQ job.',
      ],
    },
  ];
  const profiles: Array<[string, ProfileSummary]> = [];
  for (const run of completion) for (const [name, p] of Object.entries(run.taskyard.profiles ?? {})) profiles.push([`${name}, (a) c=${run.concurrency}`, p]);
  for (const run of http) if (run.profile) profiles.push([`api process 1 of ${run.processes}, (b)`, run.profile]);
  for (const [label, p] of profiles) {
    out.push({
      title: `CPU profile, main thread — ${label} (${p.totalMs} ms, ${p.busyPercent}% busy)`,
      columns: ['self %', 'self ms', 'owner', 'frame'],
      rows: p.topFrames.map((frame) => [frame.percent, frame.selfMs, frame.owner, frame.frame]),
      notes: [`by owner: ${p.byOwner.slice(0, 8).map((owner) => `${owner.owner} ${owner.percent}%`).join(', ')}`],
    });
  }
  return out;
}
