// Taskyard on Redis against raw BullMQ on the same Redis: completed jobs/s of
// the same no-op workload at two concurrencies, and accepted jobs/s over HTTP
// with one and with several API processes.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startBenchServers, stopBenchServers } from '../lib/bench-server.js';
import { dropKeys, RawBullmq } from '../lib/bull-queues.js';
import { summarizeProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { CpuSplit } from '../lib/cpu-split.js';
import { postLoad } from '../lib/load.js';
import { peakRssMiB, quietFor } from '../lib/processes.js';
import { commandStats, perJob } from '../lib/redis-stats.js';
import type { Progress } from '../lib/progress.js';
import { tables, targets, TASK, TARGET_ACCEPTED_PER_S, TARGET_P99_MS, TARGET_RATIO, type CompletionRun, type HttpRun, type Settings, type TaskyardBatch } from '../lib/redis-report.js';
import type { OptionValues, Scenario } from '../lib/scenario.js';
import { positiveInt, positiveIntList } from '../lib/flags.js';
import { round } from '../lib/stats.js';
import { REDIS_URL, withStorage } from '../lib/storage.js';
import { sqlProbe, TaskyardBatches } from '../lib/taskyard-batches.js';

/** The queue of bench-noop (it names none). */
const QUEUE = 'default';
/** Admission control stays out of the way: the HTTP phase queues every job it is given. */
const MAX_WAITING = 1_000_000_000;

function settings(quick: boolean, values: OptionValues): Settings {
  return {
    concurrencies: positiveIntList('concurrency', values.concurrency, '10,100'),
    jobs: positiveInt('jobs', values.jobs, quick ? 2000 : 10_000),
    warmup: quick ? 300 : 1000,
    apiProcesses: positiveIntList('api-processes', values['api-processes'], '1,2'),
    connections: positiveInt('connections', values.connections, 50),
    durationS: positiveInt('duration', values.duration, quick ? 3 : 10),
    enqueueConnections: 50,
    profile: values.profile === true,
    waitQuietS: values['wait-quiet'] === undefined ? (quick ? 0 : 30) : Number(values['wait-quiet']),
    timeoutMs: 300_000,
  };
}

async function rawRun(s: Settings, concurrency: number, progress: Progress): Promise<CompletionRun['raw']> {
  const prefix = `bench-raw-${randomBytes(4).toString('hex')}`;
  const raw = await RawBullmq.open({ kind: 'redis', url: REDIS_URL, prefix }, concurrency);
  const line = progress.phase(`[c=${concurrency}] raw BullMQ: warm-up ${s.warmup}, then ${s.jobs} jobs`);
  try {
    await raw.fill(s.warmup);
    await raw.drain(s.warmup, s.timeoutMs);
    await raw.fill(s.jobs);
    await quietFor(s.waitQuietS, [], (text) => line.update(text));
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

async function taskyardRun(s: Settings, concurrency: number, progress: Progress, resultsDir: string): Promise<CompletionRun['taskyard']> {
  return withStorage('redis', async (storage) => {
    const tag = `[c=${concurrency}] Taskyard`;
    const [api, worker] = await startBenchServers(progress, `${tag}: starting an api and a worker process`, [
      { name: 'api', ...storage, role: 'api', maxWaiting: MAX_WAITING },
      { name: 'worker', ...storage, role: 'worker', concurrency },
    ]);
    const probe = await sqlProbe(storage.databaseUrl!, storage.historySchema!);
    try {
      const batches = new TaskyardBatches(api!.url, probe, { task: TASK, queue: QUEUE, enqueueConnections: s.enqueueConnections, timeoutMs: s.timeoutMs });
      const warm = progress.phase(`${tag}: warm-up, ${s.warmup} jobs`);
      let warmupS: number;
      try {
        warmupS = await batches.warmUp(s.warmup, worker!.pid, warm);
        warm.done(`${warmupS.toFixed(1)} s until the worker was idle, then a second round`);
      } catch (error) {
        warm.fail(error);
        throw error;
      }

      const line = progress.phase(`${tag}: ${s.jobs} jobs queued over HTTP, then the queue resumed`);
      try {
        const queuedAt = performance.now();
        const { mark, perS } = await batches.enqueue(s.jobs);
        line.update(`${s.jobs} queued (${round(perS)}/s); resuming`);
        // Piscina ends a sandbox thread idle for 60 s: resume well before the warm-up's threads go.
        await quietFor(Math.min(s.waitQuietS, Math.max(0, 40 - (performance.now() - queuedAt) / 1000)), [api!.pid, worker!.pid], (text) => line.update(text));
        const idleS = (performance.now() - queuedAt) / 1000;
        const profileFile = (name: string): string => path.join(resultsDir, `redis-c${concurrency}-${name}.cpuprofile`);
        if (s.profile) await Promise.all([api!.profileStart(), worker!.profileStart()]);
        const stats0 = await commandStats(REDIS_URL);
        const cpu = new CpuSplit({ api: [api!.pid], worker: [worker!.pid] });
        cpu.start();
        const t0 = await batches.drain(mark, s.jobs, (finished) => line.update(`${finished}/${s.jobs} finished in history`, finished / s.jobs));
        const cores = cpu.stop();
        const stats1 = await commandStats(REDIS_URL);
        let profiles: Record<string, ProfileSummary> | undefined;
        if (s.profile) {
          await Promise.all([api!.profileStop(profileFile('api')), worker!.profileStop(profileFile('worker'))]);
          profiles = { 'api process (projector)': await summarizeProfile(profileFile('api')), 'worker process': await summarizeProfile(profileFile('worker')) };
        }
        const times = await batches.times(mark, t0);
        const batch: TaskyardBatch = {
          warmupS,
          idleS,
          workerPeakRssMiB: peakRssMiB(worker!.pid),
          jobs: times.counts.total,
          completed: times.counts.completed,
          failed: times.counts.failed,
          enqueuePerS: perS,
          seconds: times.seconds,
          completedPerS: times.completedPerS,
          workerSeconds: times.workerSeconds,
          workerCompletedPerS: times.workerCompletedPerS,
        };
        line.done(`${round(batch.completedPerS)} completed/s in history (${times.seconds.toFixed(2)} s), workers alone ${round(batch.workerCompletedPerS)}/s`);
        return { ...batch, cores, cpuWindowS: cpu.windowS, redis: perJob(stats0, stats1, times.counts.completed), ...(profiles ? { profiles } : {}) };
      } catch (error) {
        line.fail(error);
        throw error;
      }
    } finally {
      await probe.close();
      await stopBenchServers(progress, `${tag}: stopping`, [api!, worker!]);
    }
  });
}

async function httpRun(s: Settings, processes: number, progress: Progress, resultsDir: string): Promise<HttpRun> {
  return withStorage('redis', async (storage) => {
    const tag = `[HTTP, ${processes} API process${processes > 1 ? 'es' : ''}]`;
    // One first, so the others find the schema migrated instead of racing to create it.
    const [first] = await startBenchServers(progress, `${tag} starting`, [{ name: 'api 1', ...storage, role: 'api', maxWaiting: MAX_WAITING }]);
    const servers = [first!];
    try {
      if (processes > 1) {
        servers.push(
          ...(await startBenchServers(
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
        await quietFor(
          s.waitQuietS,
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
      await stopBenchServers(progress, `${tag} stopping`, servers);
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
