// The core figures: jobs accepted per second over HTTP, jobs completed per
// second, enqueue→completion latency, and how soon `npm start` is ready — on
// embedded PGlite and on PostgreSQL, with Taskyard in a process of its own.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer, type BenchServer } from '../lib/bench-server.js';
import { BACKENDS, tables, TASK, type Backend, type PhaseResult, type ReadyResult, type ServerRun, type Settings } from '../lib/core-report.js';
import { summarizeProfile } from '../lib/cpu-profile.js';
import { completionStats } from '../lib/job-stats.js';
import { jobsAfter, newestJobId, waitUntilDrained } from '../lib/jobs-api.js';
import { postLoad } from '../lib/load.js';
import { pacedLoad } from '../lib/paced.js';
import { CpuMeter, peakRssMiB, waitForQuiet } from '../lib/processes.js';
import type { Progress } from '../lib/progress.js';
import { measureReady, privateBuild } from '../lib/ready.js';
import type { OptionValues, Scenario } from '../lib/scenario.js';
import { round } from '../lib/stats.js';
import { withStorage } from '../lib/storage.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
    pacedS: quick ? 2 : 10,
    readyRounds: quick ? 1 : 3,
    profile: values.profile === true,
    ready: values['skip-ready'] !== true,
    waitQuietS: values['wait-quiet'] === undefined ? (quick ? 0 : 120) : Number(values['wait-quiet']),
    drainTimeoutMs: 600_000,
  };
}

async function runPhase(
  server: BenchServer,
  s: Settings,
  progress: Progress,
  label: string,
  load: { durationS?: number; amount?: number; connections?: number; /** jobs/s, evenly spaced */ paced?: number },
  profileFile?: string,
): Promise<PhaseResult> {
  const line = progress.phase(label);
  try {
    const before = { othersCores: Number.NaN, waitedS: 0 };
    if (s.waitQuietS > 0) {
      Object.assign(
        before,
        await waitForQuiet([server.pid], {
          maxS: s.waitQuietS,
          onWait: (cores, waitedS) => line.update(`waiting for the machine to be quiet: others use ${cores.toFixed(2)} cores (${waitedS.toFixed(0)}/${s.waitQuietS} s)`),
        }),
      );
    }
    const marker = await newestJobId(server.url, TASK);
    const cpu = new CpuMeter(server.pid);
    if (profileFile) await server.profileStart();
    const t0 = performance.now();
    cpu.start();
    const url = `${server.url}/v1/tasks/${TASK}/jobs`;
    const loadResult =
      load.paced !== undefined
        ? await pacedLoad({ url, body: { input: {} }, rate: load.paced, durationS: load.durationS ?? 5 }, line)
        : await postLoad({ url, body: { input: {} }, connections: load.connections ?? s.connections, ...load }, line);
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
    return { before, load: loadResult, completion, drained, phaseS, cpu: cpuShare, ...(profile ? { profile } : {}) };
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
      await runPhase(server, { ...s, waitQuietS: 0 }, progress, `[${tag}] warm-up, ${s.warmup} jobs`, { amount: s.warmup });
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
          ...(await runPhase(server, s, progress, `[${tag}] (c) paced at ${rate} jobs/s for ${s.pacedS} s`, { paced: rate, durationS: s.pacedS })),
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
    for (let attempt = 1; attempt <= s.readyRounds; attempt++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskyard-bench-ready-'));
      try {
        for (const [kind, samples] of [
          ['fresh data dir', result.fresh],
          ['same data dir again', result.again],
        ] as const) {
          const line = progress.phase(`(d) ready, round ${attempt}/${s.readyRounds}, ${kind}`);
          try {
            const quiet = s.waitQuietS > 0
              ? await waitForQuiet([], {
                  maxS: s.waitQuietS,
                  onWait: (cores, waitedS) => line.update(`waiting for the machine to be quiet: others use ${cores.toFixed(2)} cores (${waitedS.toFixed(0)} s)`),
                })
              : undefined;
            const sample = await measureReady(build.dir, dataDir);
            samples.push(quiet ? { ...sample, othersCoresBefore: round(quiet.othersCores, 2) } : sample);
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
    'wait-quiet': { type: 'string' },
  },
  usage: [
    '--backends pglite,postgres   which backends (default both)',
    '--concurrency 4,16           worker concurrency per queue; the first runs every phase, the rest the batch phase only',
    '--duration 10 --connections 50 --batch 2000   phase sizes (--quick: 3 s, 300 jobs)',
    '--profile                    V8 CPU profile of the server during (a) and (b); top frames printed (slows the server)',
    '--skip-ready                 skip the `npm start` ready-time measurement',
    '--wait-quiet 120             before each phase, wait up to N s for other processes to use < 0.25 cores (--quick: 0)',
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
