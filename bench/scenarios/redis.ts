// Taskyard on Redis against raw BullMQ on the same Redis: completed jobs/s of
// the same no-op workload at two concurrencies, and accepted jobs/s over HTTP
// with one and with several API processes.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { startBenchServer, type BenchServer, type BenchServerOptions } from '../lib/bench-server.js';
import { dropKeys, RawBullmq, taskyardQueue } from '../lib/bull-queues.js';
import { summarizeProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { CpuSplit } from '../lib/cpu-split.js';
import { burst, postLoad } from '../lib/load.js';
import { cpuSeconds, peakRssMiB, waitForQuiet } from '../lib/processes.js';
import { commandStats, perJob } from '../lib/redis-stats.js';
import type { Progress } from '../lib/progress.js';
import { tables, targets, TASK, TARGET_ACCEPTED_PER_S, TARGET_P99_MS, TARGET_RATIO, type CompletionRun, type HttpRun, type Settings, type TaskyardBatch } from '../lib/redis-report.js';
import type { OptionValues, Scenario } from '../lib/scenario.js';
import { round } from '../lib/stats.js';
import { dropSchemas } from '../lib/schemas.js';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The queue of bench-noop (it names none). */
const QUEUE = 'default';
/** Admission control stays out of the way: the HTTP phase queues every job it is given. */
const MAX_WAITING = 1_000_000_000;

function settings(quick: boolean, values: OptionValues): Settings {
  const positive = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const list = (name: string, value: unknown, fallback: string): number[] =>
    String(value ?? fallback)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)
      .map((item) => positive(name, item, 1));
  return {
    concurrencies: list('concurrency', values.concurrency, '10,100'),
    jobs: positive('jobs', values.jobs, quick ? 2000 : 10_000),
    warmup: quick ? 300 : 1000,
    apiProcesses: list('api-processes', values['api-processes'], '1,2'),
    connections: positive('connections', values.connections, 50),
    durationS: positive('duration', values.duration, quick ? 3 : 10),
    enqueueConnections: 50,
    profile: values.profile === true,
    waitQuietS: values['wait-quiet'] === undefined ? (quick ? 0 : 30) : Number(values['wait-quiet']),
    timeoutMs: 300_000,
  };
}

interface Storage {
  redisUrl: string;
  redisPrefix: string;
  databaseUrl: string;
  historySchema: string;
  engineSchema: string;
}

/** A fresh Redis prefix and fresh schemas; everything dropped afterwards. */
async function withStorage<T>(fn: (storage: Storage) => Promise<T>): Promise<T> {
  const suffix = randomBytes(4).toString('hex');
  const storage: Storage = {
    redisUrl: REDIS_URL,
    redisPrefix: `bench-ty-${suffix}`,
    databaseUrl: DATABASE_URL,
    historySchema: `bench_rty_${suffix}`,
    // Unused on Redis (BullMQ's queues live there), but never the shared default.
    engineSchema: `bench_rbq_${suffix}`,
  };
  try {
    return await fn(storage);
  } finally {
    await dropSchemas(DATABASE_URL, [storage.historySchema, storage.engineSchema]);
    // BullMQ's keys are `{prefix}:…`, the event log's `{prefix:p<n>}:…`.
    await dropKeys(REDIS_URL, `{${storage.redisPrefix}*`);
  }
}

async function startAll(progress: Progress, label: string, servers: Array<BenchServerOptions & { name: string }>): Promise<BenchServer[]> {
  const line = progress.phase(label);
  const started = await Promise.allSettled(servers.map(({ name: _name, ...options }) => startBenchServer({ logLevel: 'warn', ...options })));
  const ok = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((server) => server.stop()));
    line.fail(failed.reason);
    throw failed.reason;
  }
  line.done(ok.map((server, i) => `${servers[i]!.name} ${Math.round(server.startMs)} ms`).join(', '));
  return ok;
}

async function stopAll(progress: Progress, label: string, servers: readonly BenchServer[]): Promise<void> {
  const line = progress.phase(label);
  const codes = await Promise.all(servers.map((server) => server.stop()));
  line.done(`exit ${codes.join(', ')}`);
}

async function quiet(s: Settings, exclude: readonly number[], update: (text: string) => void): Promise<void> {
  if (s.waitQuietS <= 0) return;
  await waitForQuiet(exclude, {
    maxS: s.waitQuietS,
    onWait: (cores, waitedS) => update(`waiting for the machine to be quiet: others use ${cores.toFixed(2)} cores (${waitedS.toFixed(0)}/${s.waitQuietS} s)`),
  });
}

/** Waits (at most `maxS`) until the process uses less than a tenth of a core over a second. */
async function settle(pid: number, maxS: number, update: (cores: number) => void): Promise<void> {
  const t0 = performance.now();
  while ((performance.now() - t0) / 1000 < maxS) {
    const cpu0 = cpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const cores = cpuSeconds(pid) - cpu0;
    if (!(cores >= 0.1)) return;
    update(cores);
  }
}

async function rawRun(s: Settings, concurrency: number, progress: Progress): Promise<CompletionRun['raw']> {
  const prefix = `bench-raw-${randomBytes(4).toString('hex')}`;
  const raw = RawBullmq.open(REDIS_URL, prefix, concurrency);
  const line = progress.phase(`[c=${concurrency}] raw BullMQ: warm-up ${s.warmup}, then ${s.jobs} jobs`);
  try {
    await raw.fill(s.warmup);
    await raw.drain(s.warmup, s.timeoutMs);
    await raw.fill(s.jobs);
    await quiet(s, [], (text) => line.update(text));
    const stats0 = await commandStats(REDIS_URL);
    const cpu = new CpuSplit({});
    cpu.start();
    const batch = await raw.drain(s.jobs, s.timeoutMs);
    const cores = cpu.stop();
    const redis = perJob(stats0, await commandStats(REDIS_URL), batch.completed);
    line.done(`${round(batch.completedPerS)} completed/s (${batch.seconds.toFixed(2)} s)`);
    return { ...batch, cores, cpuWindowS: cpu.windowS, redis };
  } catch (error) {
    line.fail(error);
    throw error;
  } finally {
    await raw.close();
    await dropKeys(REDIS_URL, `${prefix}:*`);
  }
}

/** Jobs of the history created since `since`, by outcome, and the batch's times (ms since the epoch). */
async function historyCounts(client: pg.Client, schema: string, since: Date): Promise<{ total: number; completed: number; failed: number; finished: number; lastFinished: number; lastStored: number }> {
  const { rows } = await client.query<{ total: string; completed: string; failed: string; finished: string; last_finished: Date | null; last_stored: Date | null }>(
    `SELECT count(*) AS total,
            count(*) FILTER (WHERE status = 'completed') AS completed,
            count(*) FILTER (WHERE status IN ('failed', 'cancelled')) AS failed,
            count(*) FILTER (WHERE finished_at IS NOT NULL) AS finished,
            max(finished_at) AS last_finished,
            max(updated_at) FILTER (WHERE finished_at IS NOT NULL) AS last_stored
       FROM "${schema}".jobs WHERE created_at >= $1`,
    [since],
  );
  const row = rows[0]!;
  return {
    total: Number(row.total),
    completed: Number(row.completed),
    failed: Number(row.failed),
    finished: Number(row.finished),
    lastFinished: row.last_finished?.getTime() ?? Number.NaN,
    lastStored: row.last_stored?.getTime() ?? Number.NaN,
  };
}

async function taskyardRun(s: Settings, concurrency: number, progress: Progress, resultsDir: string): Promise<CompletionRun['taskyard']> {
  return withStorage(async (storage) => {
    const tag = `[c=${concurrency}] Taskyard`;
    const [api, worker] = await startAll(progress, `${tag}: starting an api and a worker process`, [
      { name: 'api', ...storage, role: 'api', maxWaiting: MAX_WAITING },
      { name: 'worker', ...storage, role: 'worker', concurrency },
    ]);
    const queue = taskyardQueue(REDIS_URL, storage.redisPrefix, QUEUE);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const url = `${api!.url}/v1/tasks/${TASK}/jobs`;
      /** Queues `jobs` over HTTP while the queue is paused; returns when they went in and how fast. */
      const enqueue = async (jobs: number): Promise<{ since: Date; perS: number }> => {
        await queue.pause();
        const { rows } = await client.query<{ now: Date }>('SELECT clock_timestamp() AS now');
        const t0 = performance.now();
        const sent = await burst({ url, body: { input: {} }, amount: jobs, connections: s.enqueueConnections });
        if (sent.failed > 0) throw new Error(`${sent.failed} of ${jobs} POSTs were not accepted`);
        return { since: rows[0]!.now, perS: jobs / ((performance.now() - t0) / 1000) };
      };
      /** Resumes the queue and waits until every job since `since` is finished in history; returns the resume time. */
      const drain = async (since: Date, jobs: number, onPoll: (finished: number) => void): Promise<number> => {
        const t0 = Date.now();
        await queue.resume();
        for (;;) {
          const counts = await historyCounts(client, storage.historySchema, since);
          onPoll(counts.finished);
          if (counts.finished >= jobs) return t0;
          if (Date.now() - t0 > s.timeoutMs) throw new Error(`${jobs - counts.finished} of ${jobs} jobs not finished within ${s.timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };

      // Starts the sandbox threads (one per slot).
      const warm = progress.phase(`${tag}: warm-up, ${s.warmup} jobs`);
      let warmupS: number;
      try {
        const first = await enqueue(s.warmup);
        const t0 = await drain(first.since, s.warmup, (finished) => warm.update(`${finished}/${s.warmup} finished`, finished / s.warmup));
        // Piscina goes on starting the threads it asked for after the jobs are done: wait for the worker to go idle…
        await settle(worker!.pid, 120, (cores) => warm.update(`jobs done; the worker still uses ${cores.toFixed(2)} cores`));
        warmupS = (Date.now() - t0) / 1000;
        // …then run a second round, so the threads that started first have not sat idle since.
        const second = await enqueue(s.warmup);
        await drain(second.since, s.warmup, (finished) => warm.update(`second round: ${finished}/${s.warmup} finished`));
        warm.done(`${warmupS.toFixed(1)} s until the worker was idle, then a second round`);
      } catch (error) {
        warm.fail(error);
        throw error;
      }

      const line = progress.phase(`${tag}: ${s.jobs} jobs queued over HTTP, then the queue resumed`);
      try {
        const queuedAt = performance.now();
        const { since, perS } = await enqueue(s.jobs);
        line.update(`${s.jobs} queued (${round(perS)}/s); resuming`);
        // Piscina ends a sandbox thread idle for 60 s: resume well before the warm-up's threads go.
        await quiet({ ...s, waitQuietS: Math.min(s.waitQuietS, Math.max(0, 40 - (performance.now() - queuedAt) / 1000)) }, [api!.pid, worker!.pid], (text) => line.update(text));
        const idleS = (performance.now() - queuedAt) / 1000;
        const profileFile = (name: string): string => path.join(resultsDir, `redis-c${concurrency}-${name}.cpuprofile`);
        if (s.profile) await Promise.all([api!.profileStart(), worker!.profileStart()]);
        const stats0 = await commandStats(REDIS_URL);
        const cpu = new CpuSplit({ api: [api!.pid], worker: [worker!.pid] });
        cpu.start();
        const t0 = await drain(since, s.jobs, (finished) => line.update(`${finished}/${s.jobs} finished in history`, finished / s.jobs));
        const cores = cpu.stop();
        const stats1 = await commandStats(REDIS_URL);
        let profiles: Record<string, ProfileSummary> | undefined;
        if (s.profile) {
          await Promise.all([api!.profileStop(profileFile('api')), worker!.profileStop(profileFile('worker'))]);
          profiles = { 'api process (projector)': await summarizeProfile(profileFile('api')), 'worker process': await summarizeProfile(profileFile('worker')) };
        }
        const counts = await historyCounts(client, storage.historySchema, since);
        const seconds = (counts.lastStored - t0) / 1000;
        const workerSeconds = (counts.lastFinished - t0) / 1000;
        const batch: TaskyardBatch = {
          warmupS,
          idleS,
          workerPeakRssMiB: peakRssMiB(worker!.pid),
          jobs: counts.total,
          completed: counts.completed,
          failed: counts.failed,
          enqueuePerS: perS,
          seconds,
          completedPerS: counts.completed / seconds,
          workerSeconds,
          workerCompletedPerS: counts.completed / workerSeconds,
        };
        line.done(`${round(batch.completedPerS)} completed/s in history (${seconds.toFixed(2)} s), workers alone ${round(batch.workerCompletedPerS)}/s`);
        return { ...batch, cores, cpuWindowS: cpu.windowS, redis: perJob(stats0, stats1, counts.completed), ...(profiles ? { profiles } : {}) };
      } catch (error) {
        line.fail(error);
        throw error;
      }
    } finally {
      await client.end();
      await queue.close();
      await stopAll(progress, `${tag}: stopping`, [api!, worker!]);
    }
  });
}

async function httpRun(s: Settings, processes: number, progress: Progress, resultsDir: string): Promise<HttpRun> {
  return withStorage(async (storage) => {
    const tag = `[HTTP, ${processes} API process${processes > 1 ? 'es' : ''}]`;
    // One first, so the others find the schema migrated instead of racing to create it.
    const [first] = await startAll(progress, `${tag} starting`, [{ name: 'api 1', ...storage, role: 'api', maxWaiting: MAX_WAITING }]);
    const servers = [first!];
    try {
      if (processes > 1) {
        servers.push(
          ...(await startAll(
            progress,
            `${tag} starting the others`,
            Array.from({ length: processes - 1 }, (_, i) => ({ name: `api ${i + 2}`, ...storage, role: 'api' as const, maxWaiting: MAX_WAITING })),
          )),
        );
      }
      const urls = servers.map((server) => `${server.url}/v1/tasks/${TASK}/jobs`);
      const warm = progress.phase(`${tag} warm-up, 2 s`);
      await postLoad({ url: urls, body: { input: {} }, connections: s.connections, durationS: 2 }, warm);
      warm.done();
      const line = progress.phase(`${tag} ${s.connections} connections, ${s.durationS} s`);
      try {
        await quiet(
          s,
          servers.map((server) => server.pid),
          (text) => line.update(text),
        );
        const profileFile = path.join(resultsDir, `redis-http-${processes}api.cpuprofile`);
        if (s.profile) await first!.profileStart();
        const cpu = new CpuSplit({ api: servers.map((server) => server.pid) });
        cpu.start();
        const load = await postLoad({ url: urls, body: { input: {} }, connections: s.connections, durationS: s.durationS }, line);
        const cores = cpu.stop();
        const profile = s.profile ? await first!.profileStop(profileFile).then(() => summarizeProfile(profileFile)) : undefined;
        line.done(`${round(load.okPerS)} accepted/s, p50 ${round(load.responseMs.p50, 1)} ms, p99 ${round(load.responseMs.p99, 1)} ms, ${load.non2xx} non-2xx`);
        return { processes, load, cores, ...(profile ? { profile } : {}) };
      } catch (error) {
        line.fail(error);
        throw error;
      }
    } finally {
      await stopAll(progress, `${tag} stopping`, servers);
    }
  });
}

export const scenario: Scenario = {
  description: 'Taskyard on Redis vs raw BullMQ (completed jobs/s, same Redis), and accepted jobs/s over HTTP with 1 and N API processes',
  options: {
    concurrency: { type: 'string' },
    jobs: { type: 'string' },
    'api-processes': { type: 'string' },
    connections: { type: 'string' },
    duration: { type: 'string' },
    profile: { type: 'boolean' },
    'wait-quiet': { type: 'string' },
  },
  usage: [
    '--concurrency 10,100   worker concurrency, one raw and one Taskyard batch each',
    '--jobs 10000           jobs per batch, the same for raw BullMQ and Taskyard (--quick: 2000)',
    '--api-processes 1,2    API processes sharing the HTTP load, one run each',
    '--connections 50 --duration 10   HTTP load (--quick: 3 s)',
    '--profile              V8 CPU profiles: api + worker during (a), the first API process during (b) (slows them)',
    '--wait-quiet 30        before each timed phase, wait up to N s for other processes to use < 0.25 cores (--quick: 0; Taskyard batches: at most 40 s after the warm-up)',
  ],
  async run({ quick, values, progress, resultsDir }) {
    const s = settings(quick, values);
    const completion: CompletionRun[] = [];
    for (const concurrency of s.concurrencies) {
      const raw = await rawRun(s, concurrency, progress);
      const taskyard = await taskyardRun(s, concurrency, progress, resultsDir);
      completion.push({ concurrency, raw, taskyard, ratio: taskyard.completedPerS / raw.completedPerS });
    }
    const http: HttpRun[] = [];
    for (const processes of s.apiProcesses) http.push(await httpRun(s, processes, progress, resultsDir));
    const verdicts = targets(completion, http);
    return {
      tables: [
        ...tables(s, completion, http),
        {
          title: 'Against the targets',
          columns: ['target', 'measured', ''],
          rows: verdicts.map((v) => [v.target, v.measured, v.met ? 'met' : 'MISSED']),
        },
      ],
      data: {
        settings: s,
        task: TASK,
        redis: REDIS_URL,
        targets: { ratio: TARGET_RATIO, acceptedPerS: TARGET_ACCEPTED_PER_S, p99Ms: TARGET_P99_MS, verdicts },
        completion,
        http,
      },
    };
  },
};
