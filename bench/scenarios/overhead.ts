// Raw BullMQ against Taskyard on the same backend and concurrency, in the same
// run, interleaved round by round (raw, Taskyard, raw, Taskyard…), so that a
// noisy neighbour on the machine hits both: completed jobs/s and their ratio.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBenchServers, stopBenchServers, type BenchServer, type BenchServerOptions } from '../lib/bench-server.js';
import { dropKeys, RawBullmq, type RawTarget } from '../lib/bull-queues.js';
import { writeLineChart } from '../lib/chart.js';
import { CpuSplit, type CoreSplit } from '../lib/cpu-split.js';
import { positiveInt, positiveIntList } from '../lib/flags.js';
import { quietFor } from '../lib/processes.js';
import type { Progress } from '../lib/progress.js';
import { TARGET_RATIO, TASK } from '../lib/redis-report.js';
import type { OptionValues, Scenario } from '../lib/scenario.js';
import { dropSchemas } from '../lib/schemas.js';
import { median, round } from '../lib/stats.js';
import { DATABASE_URL, parseBackend, REDIS_URL, withStorage, type StorageBackend } from '../lib/storage.js';
import type { Table } from '../lib/table.js';
import { httpProbe, sqlProbe, TaskyardBatches } from '../lib/taskyard-batches.js';

const QUEUE = 'default';
const MAX_WAITING = 1_000_000_000;

interface Settings {
  backend: StorageBackend;
  concurrencies: number[];
  jobs: number;
  rounds: number;
  warmup: number;
  enqueueConnections: number;
  waitQuietS: number;
  timeoutMs: number;
}

function settings(quick: boolean, values: OptionValues): Settings {
  return {
    backend: parseBackend(values.backend, 'redis'),
    // Concurrency 100 takes ~90 s to start its sandbox threads: not in a quick run.
    concurrencies: positiveIntList('concurrency', values.concurrency, quick ? '10' : '10,100'),
    jobs: positiveInt('jobs', values.jobs, quick ? 1000 : 10_000),
    rounds: positiveInt('rounds', values.rounds, quick ? 2 : 3),
    warmup: quick ? 200 : 1000,
    enqueueConnections: 50,
    waitQuietS: values['wait-quiet'] === undefined ? (quick ? 0 : 5) : Number(values['wait-quiet']),
    timeoutMs: 300_000,
  };
}

interface Round {
  round: number;
  raw: { completedPerS: number; seconds: number; completed: number; failed: number; cores: CoreSplit };
  taskyard: { completedPerS: number; seconds: number; workerCompletedPerS: number; completed: number; failed: number; enqueuePerS: number; cores: CoreSplit };
}

interface ConcurrencyRun {
  concurrency: number;
  taskyardWarmupS: number;
  rounds: Round[];
  rawMedian: number;
  taskyardMedian: number;
  /** taskyardMedian / rawMedian */
  ratio: number;
}

/** Where raw BullMQ runs for a backend, and how to remove it afterwards. */
async function rawTarget(backend: StorageBackend): Promise<{ target: RawTarget; drop: () => Promise<void> }> {
  const suffix = randomBytes(4).toString('hex');
  if (backend === 'redis') {
    const prefix = `bench-raw-${suffix}`;
    return { target: { kind: 'redis', url: REDIS_URL, prefix }, drop: async () => void (await dropKeys(REDIS_URL, `${prefix}:*`)) };
  }
  if (backend === 'postgres') {
    const schema = `bench_raw_${suffix}`;
    return { target: { kind: 'postgres', url: DATABASE_URL, schema }, drop: () => dropSchemas(DATABASE_URL, [schema]) };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskyard-bench-raw-'));
  return { target: { kind: 'pglite', dataDir }, drop: () => rm(dataDir, { recursive: true, force: true }) };
}

/** Taskyard's processes: an api and a worker apart where the backend allows, one process on PGlite (embedded). */
function taskyardProcesses(backend: StorageBackend, storage: BenchServerOptions, concurrency: number): Array<BenchServerOptions & { name: string }> {
  if (backend === 'pglite') return [{ name: 'server', ...storage, role: 'all', concurrency, maxWaiting: MAX_WAITING }];
  return [
    { name: 'api', ...storage, role: 'api', maxWaiting: MAX_WAITING },
    { name: 'worker', ...storage, role: 'worker', concurrency },
  ];
}

async function concurrencyRun(s: Settings, concurrency: number, progress: Progress): Promise<ConcurrencyRun> {
  const tag = `[${s.backend} c=${concurrency}]`;
  const { target, drop } = await rawTarget(s.backend);
  let raw: RawBullmq | undefined;
  try {
    const rawWarm = progress.phase(`${tag} raw BullMQ: open, warm-up ${s.warmup} jobs`);
    try {
      raw = await RawBullmq.open(target, concurrency);
      await raw.fill(s.warmup);
      await raw.drain(s.warmup, s.timeoutMs);
      rawWarm.done();
    } catch (error) {
      rawWarm.fail(error);
      throw error;
    }
    const rawBullmq = raw;
    return await withStorage(s.backend, async (storage) => {
      const servers = await startBenchServers(progress, `${tag} Taskyard: starting`, taskyardProcesses(s.backend, storage, concurrency));
      const api = servers[0]!;
      const worker = servers[servers.length - 1]!;
      const named: Record<string, number[]> = s.backend === 'pglite' ? { server: [api.pid] } : { api: [api.pid], worker: [worker.pid] };
      const probe = s.backend === 'pglite' ? httpProbe(api.url, TASK) : await sqlProbe(storage.databaseUrl!, storage.historySchema!);
      try {
        const batches = new TaskyardBatches(api.url, probe, { task: TASK, queue: QUEUE, enqueueConnections: s.enqueueConnections, timeoutMs: s.timeoutMs });
        const warm = progress.phase(`${tag} Taskyard: warm-up, ${s.warmup} jobs twice`);
        let taskyardWarmupS: number;
        try {
          taskyardWarmupS = await batches.warmUp(s.warmup, worker.pid, warm);
          warm.done(`${taskyardWarmupS.toFixed(1)} s until the worker was idle`);
        } catch (error) {
          warm.fail(error);
          throw error;
        }
        const rounds: Round[] = [];
        for (let round = 1; round <= s.rounds; round++) {
          rounds.push({ round, raw: await rawRound(s, rawBullmq, `${tag} round ${round}/${s.rounds}, raw BullMQ`, progress), taskyard: await taskyardRound(s, batches, servers, named, `${tag} round ${round}/${s.rounds}, Taskyard`, progress) });
        }
        const rawMedian = median(rounds.map((r) => r.raw.completedPerS));
        const taskyardMedian = median(rounds.map((r) => r.taskyard.completedPerS));
        return { concurrency, taskyardWarmupS, rounds, rawMedian, taskyardMedian, ratio: taskyardMedian / rawMedian };
      } finally {
        await probe.close();
        await stopBenchServers(progress, `${tag} Taskyard: stopping`, servers);
      }
    });
  } finally {
    await raw?.close();
    await drop();
  }
}

async function rawRound(s: Settings, raw: RawBullmq, label: string, progress: Progress): Promise<Round['raw']> {
  const line = progress.phase(`${label}: ${s.jobs} jobs`);
  try {
    await raw.fill(s.jobs);
    await quietFor(s.waitQuietS, [], (text) => line.update(text));
    const cpu = new CpuSplit({});
    cpu.start();
    const batch = await raw.drain(s.jobs, s.timeoutMs);
    const cores = cpu.stop();
    line.done(`${round(batch.completedPerS)} completed/s (${batch.seconds.toFixed(2)} s)`);
    return { completedPerS: batch.completedPerS, seconds: batch.seconds, completed: batch.completed, failed: batch.failed, cores };
  } catch (error) {
    line.fail(error);
    throw error;
  }
}

async function taskyardRound(
  s: Settings,
  batches: TaskyardBatches,
  servers: readonly BenchServer[],
  named: Record<string, number[]>,
  label: string,
  progress: Progress,
): Promise<Round['taskyard']> {
  const line = progress.phase(`${label}: ${s.jobs} jobs POSTed, then the queue resumed`);
  try {
    const { mark, perS } = await batches.enqueue(s.jobs);
    await quietFor(
      s.waitQuietS,
      servers.map((server) => server.pid),
      (text) => line.update(text),
    );
    const cpu = new CpuSplit(named);
    cpu.start();
    const resumedAt = await batches.drain(mark, s.jobs, (finished) => line.update(`${finished}/${s.jobs} finished in history`));
    const cores = cpu.stop();
    const times = await batches.times(mark, resumedAt);
    line.done(`${round(times.completedPerS)} completed/s in history (${times.seconds.toFixed(2)} s)`);
    return {
      completedPerS: times.completedPerS,
      seconds: times.seconds,
      workerCompletedPerS: times.workerCompletedPerS,
      completed: times.counts.completed,
      failed: times.counts.failed + (times.counts.total - times.counts.completed - times.counts.failed),
      enqueuePerS: perS,
      cores,
    };
  } catch (error) {
    line.fail(error);
    throw error;
  }
}

const cores = (split: CoreSplit, key: string): number => round(split[key] ?? Number.NaN, 2);

function tables(s: Settings, runs: readonly ConcurrencyRun[]): Table[] {
  const processes = s.backend === 'pglite' ? 'one Taskyard process (embedded: API, history, worker)' : 'a Taskyard api process and a worker process';
  const met = (ratio: number): string => (ratio >= TARGET_RATIO ? 'met' : `MISSED (${round(TARGET_RATIO / ratio, 1)}× short)`);
  return [
    {
      title: `Overhead against raw BullMQ, ${s.backend} — ${s.jobs.toLocaleString('en-US')} no-op jobs a round, queued first, then the queue resumed; resume → last completed`,
      columns: ['conc', 'round', 'raw BullMQ/s', 'Taskyard/s', 'ratio %', 'TY workers only/s', 'TY enqueue/s', 'failed', 'other cores (raw / TY)'],
      rows: runs.flatMap((run) =>
        run.rounds.map((r) => [
          run.concurrency,
          r.round,
          round(r.raw.completedPerS),
          round(r.taskyard.completedPerS),
          round((r.taskyard.completedPerS / r.raw.completedPerS) * 100, 1),
          round(r.taskyard.workerCompletedPerS),
          round(r.taskyard.enqueuePerS),
          r.raw.failed + r.taskyard.failed,
          `${cores(r.raw.cores, 'others')} / ${cores(r.taskyard.cores, 'others')}`,
        ]),
      ),
      notes: [
        'raw: a BullMQ Queue (addBulk) + Worker, no-op processor, in the harness process; `completed` events counted there.',
        `Taskyard: bench-noop (one ctx.progress, sandboxed) through ${processes}, events and history on;`,
        '  jobs POSTed while the queue was paused (enqueue/s, not timed); done = finished in history.',
        'Rounds alternate raw, Taskyard, raw, …; both stay open (idle) while the other runs.',
      ],
    },
    {
      title: `Median of ${s.rounds} rounds, against the target (Taskyard ≥ ${TARGET_RATIO * 100} % of raw BullMQ's jobs/s${s.backend === 'redis' ? '' : '; the issue sets it for Redis'})`,
      columns: ['conc', 'raw BullMQ/s', 'Taskyard/s', 'ratio %', `≥ ${TARGET_RATIO * 100} %`, 'TY warm-up s'],
      rows: runs.map((run) => [run.concurrency, round(run.rawMedian), round(run.taskyardMedian), round(run.ratio * 100, 1), met(run.ratio), round(run.taskyardWarmupS, 1)]),
    },
  ];
}

export const scenario: Scenario = {
  description: 'raw BullMQ vs Taskyard (events + history on), same backend and concurrency, interleaved rounds: completed jobs/s and the ratio',
  options: {
    backend: { type: 'string' },
    concurrency: { type: 'string' },
    jobs: { type: 'string' },
    rounds: { type: 'string' },
    'wait-quiet': { type: 'string' },
  },
  usage: [
    '--backend redis        redis | postgres | pglite (raw BullMQ on the same backend: Redis, BullMQ\'s PostgreSQL backend, or PGlite in the harness)',
    '--concurrency 10,100   worker concurrency, raw and Taskyard alike (--quick: 10)',
    '--jobs 10000           jobs per round (--quick: 1000)',
    '--rounds 3             raw, Taskyard, raw, Taskyard… (--quick: 2)',
    '--wait-quiet 5         before each timed drain, wait up to N s for other processes to use < 0.25 cores (--quick: 0)',
  ],
  async run({ quick, values, progress, resultsDir }) {
    const s = settings(quick, values);
    const runs: ConcurrencyRun[] = [];
    for (const concurrency of s.concurrencies) runs.push(await concurrencyRun(s, concurrency, progress));
    const points = runs.flatMap((run) =>
      run.rounds.flatMap((r) => [
        { round: r.round, jobsPerS: round(r.raw.completedPerS), series: `raw BullMQ, c=${run.concurrency}` },
        { round: r.round, jobsPerS: round(r.taskyard.completedPerS), series: `Taskyard, c=${run.concurrency}` },
      ]),
    );
    const chart = await writeLineChart(resultsDir, `overhead-${s.backend}`, {
      title: `Completed jobs/s per round, raw BullMQ vs Taskyard (${s.backend})`,
      points,
      x: { field: 'round', title: 'round' },
      y: { field: 'jobsPerS', title: 'completed jobs/s (log)', log: true },
      series: 'series',
      rules: runs.map((run) => ({ y: round(run.rawMedian * TARGET_RATIO), label: `${TARGET_RATIO * 100} % of raw, c=${run.concurrency}` })),
    });
    progress.note(`chart: ${path.relative(process.cwd(), chart)}`);
    return {
      tables: tables(s, runs),
      data: { settings: s, task: TASK, targets: { ratio: TARGET_RATIO }, runs, chart: path.basename(chart) },
    };
  },
};
