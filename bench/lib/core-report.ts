// How a core run is recorded (the JSON) and shown (the tables).
import type { CompletionStats } from './job-stats.js';
import type { LoadResult } from './load.js';
import type { CpuShare } from './processes.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { ReadySample } from './ready.js';
import { median, round } from './stats.js';
import type { Table } from './table.js';

export const TASK = 'bench-noop';
export const BACKENDS = ['pglite', 'postgres'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface Settings {
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
  /** Before each measured phase, wait up to this long for other processes to go quiet. */
  waitQuietS: number;
  drainTimeoutMs: number;
}

export interface PhaseResult {
  /** CPU other processes used just before the phase, and how long we waited for them. */
  before: { othersCores: number; waitedS: number };
  load: LoadResult;
  completion: CompletionStats;
  drained: boolean;
  /** Load start → all finished. */
  phaseS: number;
  /** Average cores used over the phase: by the server, the harness, and everything else. */
  cpu: CpuShare;
  profile?: ProfileSummary;
}

export interface ServerRun {
  backend: Backend;
  concurrency: number;
  serverStartMs: number;
  serverPeakRssMiB: number;
  batch: PhaseResult;
  http?: PhaseResult;
  paced?: PhaseResult & { rate: number };
}

export interface ReadyResult {
  /** tsc's errors when the checkout did not type-check (it was measured all the same). */
  buildWarnings: string | null;
  fresh: ReadySample[];
  again: ReadySample[];
}

const ms = (value: number): number => round(value, 0);

export function tables(s: Settings, runs: readonly ServerRun[], ready: ReadyResult | undefined): Table[] {
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
        round(run.batch.completion.jobs / run.batch.completion.acceptWindowS),
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
        'enqueue/s = jobs / (first → last createdAt), server clock (autocannon ends an `amount` run on a whole second).',
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
      title: '(c) Enqueue → completion latency at a steady rate (evenly spaced requests at half the batch throughput, at most 250/s)',
      columns: ['backend', 'conc', 'jobs/s', 'e2e p50 ms', 'e2e p95 ms', 'e2e p99 ms', 'wait p50 ms', 'run p50 ms', 'HTTP p50 ms', 'HTTP p99 ms', 'other cores'],
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
          round(run.paced!.cpu.others, 2),
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
      round(Math.max(...samples.map((sample) => sample.othersCoresBefore ?? Number.NaN)), 2),
    ];
    out.push({
      title: `(d) Ready — spawn \`node bin/taskyard.js start\` → first 200 from GET /ready (built-in tasks, embedded PGlite)`,
      columns: ['start', 'median ms', 'samples ms', 'CLI says s', 'other cores'],
      rows: [row('fresh data dir', ready.fresh), row('same data dir again', ready.again)],
      notes: [
        'target: < 3000 ms. Measured on a build of the checkout in a temporary folder (the build is not timed).',
        'CLI says: the time the CLI prints in its banner, from its own start (after Node has loaded it).',
        'other cores: the most CPU other processes used just before a sample (the harness waits for < 0.25).',
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

