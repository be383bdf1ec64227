// catalog-sla: the load the original catalog system was judged by — 50 virtual
// users for 2 minutes, each iteration 70% GET /products and 30% POST
// /heavy-process, then 1 s of think time — against its SLA: p95 under 50 ms
// (products) and 100 ms (heavy), under 1% errors. `--mode open` offers fixed
// arrival rates instead and searches for the highest one that meets the SLA.
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { startBenchServer, type BenchServer } from '../lib/bench-server.js';
import { jobsAfter, newestJobId, waitUntilDrained } from '../lib/jobs-api.js';
import { CpuMeter, cpuSeconds, waitForQuiet } from '../lib/processes.js';
import type { PhaseLine, Progress } from '../lib/progress.js';
import type { OptionValues, Scenario } from '../lib/scenario.js';
import { percentile, round, summarize } from '../lib/stats.js';
import { withStorage } from '../lib/storage.js';
import type { Table } from '../lib/table.js';

const HEAVY_TASK = 'catalog.heavy-process';
const BACKENDS = ['pglite', 'postgres', 'redis'] as const;
type Backend = (typeof BACKENDS)[number];

/** The original system's SLA. */
const SLA = { productsP95Ms: 50, heavyP95Ms: 100, errorRate: 0.01 };
/** Share of iterations that read the list; the rest start a heavy job. */
const READ_SHARE = 0.7;
/** An open-loop step that could not offer this share of its rate measured the generator, not the server. */
const MIN_ACHIEVED = 0.9;
/** Other processes busier than this during a phase (the machine is small and shared): its figures are suspect. */
const NOISY_CORES = 0.5;

type Route = 'products' | 'heavy';
const ROUTES: Record<Route, { label: string; path: string; method: 'GET' | 'POST'; body?: string }> = {
  products: { label: 'GET /products', path: '/products', method: 'GET' },
  heavy: { label: 'POST /heavy-process', path: '/heavy-process', method: 'POST', body: '{}' },
};

interface Settings {
  mode: 'closed' | 'open';
  backend: Backend;
  /** Heavy jobs the server runs at once (its worker threads). */
  concurrency: number;
  vus: number;
  durationS: number;
  spreadMs: number;
  stepS: number;
  startRate: number;
  maxRate: number;
  maxSteps: number;
  warmupS: number;
  waitQuietS: number;
}

function settings(quick: boolean, values: OptionValues): Settings {
  const whole = (name: string, fallback: number, min = 1): number => {
    const value = values[name];
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}`);
    return n;
  };
  const mode = String(values.mode ?? 'closed');
  if (mode !== 'closed' && mode !== 'open') throw new Error('--mode must be closed or open');
  const backend = String(values.backend ?? 'pglite');
  if (!(BACKENDS as readonly string[]).includes(backend)) throw new Error(`--backend must be one of ${BACKENDS.join(', ')}`);
  return {
    mode,
    backend: backend as Backend,
    concurrency: whole('concurrency', 16),
    vus: whole('vus', 50),
    durationS: whole('duration', quick ? 10 : 120),
    spreadMs: whole('spread-ms', 1000, 0),
    stepS: whole('step-duration', quick ? 5 : 10),
    startRate: whole('start-rate', 50),
    maxRate: whole('max-rate', 2000),
    maxSteps: whole('max-steps', quick ? 4 : 10),
    warmupS: quick ? 5 : 10,
    waitQuietS: whole('wait-quiet', quick ? 0 : 60, 0),
  };
}

/** What one route's requests met, as the client saw them; `failed` = non-2xx, socket errors and timeouts. */
interface RouteResult { requests: number; ok: number; failed: number; okPerS: number; p50: number; p95: number; p99: number; max: number }

interface LoadResult {
  routes: Record<Route, RouteResult>;
  errorRate: number;
  /** Requests answered (or failed) per second, both routes. */
  achievedPerS: number;
}

const split = (users: number): Record<Route, number> => ({ products: Math.round(users * READ_SHARE), heavy: users - Math.round(users * READ_SHARE) });

/**
 * Offers load with autocannon, one request per connection per second
 * (`connectionRate: 1`): a connection stands for a user who waits for each
 * answer, then thinks until the next second. autocannon releases a second's
 * requests together, so the connections are dealt into `slots` instances
 * started `spreadMs / slots` apart (otherwise every user would click at once).
 */
async function offerLoad(base: string, connections: Record<Route, number>, o: { durationS: number; spreadMs: number; slots: number }, line: PhaseLine): Promise<LoadResult> {
  const samples: Record<Route, { latencies: number[]; ok: number; failed: number }> = {
    products: { latencies: [], ok: 0, failed: 0 },
    heavy: { latencies: [], ok: 0, failed: 0 },
  };
  const runs: Array<Promise<void>> = [];
  for (const route of ['products', 'heavy'] as const) {
    const total = connections[route];
    const { path: urlPath, method, body } = ROUTES[route];
    for (let slot = 0; slot < o.slots; slot++) {
      // The two routes' leftovers go to opposite halves of the second.
      const shifted = route === 'heavy' ? (slot + Math.floor(o.slots / 2)) % o.slots : slot;
      const count = Math.floor(total / o.slots) + (shifted < total % o.slots ? 1 : 0);
      if (count === 0) continue;
      const s = samples[route];
      runs.push(
        new Promise<void>((resolve) => setTimeout(resolve, (slot * o.spreadMs) / o.slots)).then(
          () =>
            new Promise<void>((resolve, reject) => {
              const options: autocannon.Options = { url: `${base}${urlPath}`, method, connections: count, connectionRate: 1, duration: o.durationS, timeout: 10 };
              if (body !== undefined) Object.assign(options, { body, headers: { 'content-type': 'application/json' } });
              const instance = autocannon(options, (error: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve()));
              instance.on('response', (_client, status, _bytes, responseTime) => {
                s.latencies.push(responseTime);
                if (status >= 200 && status < 300) s.ok++;
                else s.failed++;
              });
              instance.on('reqError', () => s.failed++);
            }),
        ),
      );
    }
  }
  const t0 = performance.now();
  const timer = setInterval(() => {
    const { products: p, heavy: h } = samples;
    line.update(`${((performance.now() - t0) / 1000).toFixed(0)}/${o.durationS} s — products ${p.ok} ok${p.failed ? ` ${p.failed} failed` : ''}, heavy ${h.ok} ok${h.failed ? ` ${h.failed} failed` : ''}`, (performance.now() - t0) / 1000 / o.durationS);
  }, 500);
  try {
    await Promise.all(runs);
  } finally {
    clearInterval(timer);
  }
  // Per second of the load itself: the slots' start spread is not load time.
  const seconds = o.durationS;
  const result = (route: Route): RouteResult => {
    const { latencies, ok, failed } = samples[route];
    const sum = summarize(latencies);
    return { requests: ok + failed, ok, failed, okPerS: round(ok / seconds), p50: round(sum.p50), p95: round(sum.p95), p99: round(sum.p99), max: round(sum.max) };
  };
  const routes = { products: result('products'), heavy: result('heavy') };
  const requests = routes.products.requests + routes.heavy.requests;
  const failed = routes.products.failed + routes.heavy.failed;
  return { routes, errorRate: requests ? failed / requests : 1, achievedPerS: round(requests / seconds) };
}

/** The SLA, threshold by threshold. */
function verdicts(load: LoadResult): Array<{ name: string; limit: string; measured: string; pass: boolean }> {
  const { products, heavy } = load.routes;
  return [
    { name: 'p95 GET /products', limit: `< ${SLA.productsP95Ms} ms`, measured: `${products.p95} ms`, pass: products.p95 < SLA.productsP95Ms },
    { name: 'p95 POST /heavy-process', limit: `< ${SLA.heavyP95Ms} ms`, measured: `${heavy.p95} ms`, pass: heavy.p95 < SLA.heavyP95Ms },
    { name: 'errors (both routes)', limit: `< ${SLA.errorRate * 100} %`, measured: `${round(load.errorRate * 100, 2)} %`, pass: load.errorRate < SLA.errorRate },
  ];
}

/** Heavy jobs submitted since `marker`: how many the workers finished while the load ran, and how soon the rest did. */
async function heavyJobs(server: BenchServer, marker: string, loadEnd: number, line: PhaseLine) {
  const drainStart = performance.now();
  const drained = await waitUntilDrained(server.url, HEAVY_TASK, { timeoutMs: 600_000, onPoll: (left) => line.update(`draining heavy jobs, ${left.count}${left.capped ? '+' : ''} left`) });
  const drainS = (performance.now() - drainStart) / 1000;
  const jobs = await jobsAfter(server.url, HEAVY_TASK, marker);
  const done = jobs.filter((job) => job.status === 'completed' && job.finishedAt !== null);
  const during = done.filter((job) => job.finishedAt! <= loadEnd);
  const turnaround = done.map((job) => job.finishedAt! - job.createdAt).sort((a, b) => a - b);
  return {
    accepted: jobs.length,
    completedDuringLoad: during.length,
    completed: done.length,
    failed: jobs.filter((job) => job.status === 'failed').length,
    /** NaN: not drained within 10 minutes. */
    drainS: drained ? round(drainS) : Number.NaN,
    /** From the 202 to the job's end. */
    turnaroundP50Ms: round(percentile(turnaround, 50)),
    turnaroundP95Ms: round(percentile(turnaround, 95)),
  };
}

/** A server with storage of its own, gone afterwards. */
async function withServer<T>(s: Settings, progress: Progress, fn: (server: BenchServer) => Promise<T>): Promise<T> {
  return withStorage(s.backend, async (storage) => {
    const line = progress.phase(`starting the server (${s.backend}, concurrency ${s.concurrency})`);
    let server: BenchServer | undefined;
    try {
      server = await startBenchServer({ ...storage, recipes: ['catalog'], builtins: false, tasks: [], concurrency: s.concurrency, logLevel: 'warn' });
      line.done(`${server.url} (${Math.round(server.startMs)} ms)`);
      // JIT and cache warm, and every worker thread started (each loads the task code once): steady state from the first measured second.
      const users = { products: split(s.vus).products, heavy: Math.max(split(s.vus).heavy, 2 * s.concurrency) };
      const warm = progress.phase(`warm-up, ${s.warmupS} s at ${users.products + users.heavy} users`);
      await offerLoad(server.url, users, { durationS: s.warmupS, spreadMs: 1000, slots: 10 }, warm);
      await waitUntilDrained(server.url, HEAVY_TASK, { timeoutMs: 120_000 });
      warm.done();
      return await fn(server);
    } catch (error) {
      line.fail(error);
      throw error;
    } finally {
      await server?.stop();
    }
  });
}

/** CPU seconds so far of each of this machine's database servers' processes: with a PostgreSQL or Redis backend, they work for the server under test. */
function databaseCpu(): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (['postgres', 'redis-server'].includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) cpu.set(pid, cpuSeconds(Number(pid)));
    } catch {
      // The process ended meanwhile.
    }
  }
  return cpu;
}

/** Per process, so that a connection process ending meanwhile (someone else's test) does not take its CPU off the total. */
const cpuSince = (before: Map<string, number>): number => [...databaseCpu()].reduce((sum, [pid, now]) => sum + now - (before.get(pid) ?? 0), 0);

/** One measured phase: the load, who used the CPU, then the heavy jobs it started. */
async function phase(server: BenchServer, s: Settings, connections: Record<Route, number>, load: { durationS: number; spreadMs: number; slots: number }, line: PhaseLine) {
  // A 2-vCPU machine shared with someone's test run measures them, not us.
  await waitForQuiet([server.pid], { maxS: s.waitQuietS, onWait: (cores, waitedS) => line.update(`waiting for the machine to be quiet: others use ${cores.toFixed(2)} cores (${waitedS.toFixed(0)}/${s.waitQuietS} s)`) });
  const marker = await newestJobId(server.url, HEAVY_TASK);
  const cpu = new CpuMeter(server.pid);
  const db0 = databaseCpu();
  const t0 = performance.now();
  cpu.start();
  const result = await offerLoad(server.url, connections, load, line);
  const cores = cpu.stop();
  const database = s.backend === 'pglite' ? 0 : cpuSince(db0) / ((performance.now() - t0) / 1000);
  const jobs = await heavyJobs(server, marker, Date.now(), line);
  return { load: result, cores: { server: round(cores.server, 2), database: round(database, 2), others: round(Math.max(0, cores.others - database), 2) }, jobs };
}

const CORES_NOTES = [
  'server cores: CPU the server process used (API, PGlite, worker threads), 1.0 = one core; database: PostgreSQL and Redis processes (0 on PGlite)',
  'others: every other process but the load generator — noise',
];

function routeTable(title: string, load: LoadResult): Table {
  return {
    title,
    columns: ['route', 'requests', 'ok/s', 'failed', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    rows: (['products', 'heavy'] as const).map((route) => {
      const r = load.routes[route];
      return [ROUTES[route].label, r.requests, r.okPerS, r.failed, r.p50, r.p95, r.p99, r.max];
    }),
    notes: ['latency as the client saw it (autocannon, on this machine); failed = non-2xx, socket errors and timeouts'],
  };
}

async function closedLoop(s: Settings, progress: Progress) {
  return withServer(s, progress, async (server) => {
    const users = split(s.vus);
    const line = progress.phase(`closed loop: ${s.vus} users (${users.products} GET /products, ${users.heavy} POST /heavy-process, 1 request/s each) for ${s.durationS} s`);
    const result = await phase(server, s, users, { durationS: s.durationS, spreadMs: s.spreadMs, slots: Math.min(s.vus, 10) }, line);
    line.done(`${result.load.achievedPerS} requests/s, ${result.jobs.completedDuringLoad} heavy jobs completed during the load`);
    const checks = verdicts(result.load);
    const tables: Table[] = [
      routeTable(`catalog-sla, closed loop — ${s.vus} users, ${s.durationS} s, ${s.backend}, worker concurrency ${s.concurrency}`, result.load),
      { title: 'SLA thresholds', columns: ['threshold', 'limit', 'measured', 'result'], rows: checks.map((c) => [c.name, c.limit, c.measured, c.pass ? 'PASS' : 'FAIL']) },
      {
        title: 'Heavy jobs started by the load',
        columns: ['accepted', 'completed during load', 'completed', 'failed', 'drained after s', 'submit→done p50 ms', 'p95 ms', 'server cores', 'database', 'others'],
        rows: [[result.jobs.accepted, result.jobs.completedDuringLoad, result.jobs.completed, result.jobs.failed, result.jobs.drainS, result.jobs.turnaroundP50Ms, result.jobs.turnaroundP95Ms, result.cores.server, result.cores.database, result.cores.others]],
        notes: [...CORES_NOTES, ...(result.cores.others > NOISY_CORES ? [`⚠ other processes used ${result.cores.others} cores meanwhile: a noisy run, not figures to quote`] : [])],
      },
    ];
    return { tables, data: { settings: s, closed: result }, breached: checks.filter((c) => !c.pass).map((c) => `${c.name} ${c.measured} (limit ${c.limit})`) };
  });
}

/** Rates step up by doubling until one fails, then bisect between the best pass and the first failure. */
async function openLoop(s: Settings, progress: Progress) {
  return withServer(s, progress, async (server) => {
    const steps: Array<{ rate: number; pass: boolean; result: Awaited<ReturnType<typeof phase>>; failing: string[] }> = [];
    let rate = s.startRate;
    let best: number | undefined;
    let worst: number | undefined;
    for (let step = 1; step <= s.maxSteps && rate >= 1; step++) {
      const line = progress.phase(`open loop, step ${step}: ${rate} requests/s for ${s.stepS} s`);
      let result = await phase(server, s, split(rate), { durationS: s.stepS, spreadMs: 1000, slots: 20 }, line);
      // A step that shared the machine is measured again (twice at most) rather than decide the search.
      for (let again = 0; again < 2 && result.cores.others > NOISY_CORES; again++) {
        line.update(`others used ${result.cores.others} cores: measuring again`);
        result = await phase(server, s, split(rate), { durationS: s.stepS, spreadMs: 1000, slots: 20 }, line);
      }
      const failing = verdicts(result.load).filter((c) => !c.pass).map((c) => `${c.name} ${c.measured}`);
      if (result.load.achievedPerS < rate * MIN_ACHIEVED) failing.push(`offered only ${result.load.achievedPerS}/s`);
      const pass = failing.length === 0;
      steps.push({ rate, pass, result, failing });
      line.done(pass ? 'meets the SLA' : `misses: ${failing.join('; ')}`);
      if (pass) best = Math.max(best ?? 0, rate);
      else worst = Math.min(worst ?? Infinity, rate);
      const next = worst === undefined ? Math.min(rate * 2, s.maxRate) : best === undefined ? Math.floor(rate / 2) : Math.round((best + worst) / 2);
      // Close enough: within 10% (or 5 requests/s) of the edge.
      if (next === rate || (best !== undefined && worst !== undefined && worst - best <= Math.max(5, best * 0.1))) break;
      rate = next;
    }
    const tables: Table[] = [
      {
        title: `catalog-sla, open loop — ${s.stepS} s steps, ${s.backend}, worker concurrency ${s.concurrency}`,
        columns: ['offered/s', 'achieved/s', 'products p95 ms', 'heavy p95 ms', 'errors %', 'heavy jobs', 'done in step', 'server cores', 'database', 'others', 'SLA'],
        rows: steps.map(({ rate: r, result: x, pass }) => [
          r, x.load.achievedPerS, x.load.routes.products.p95, x.load.routes.heavy.p95, round(x.load.errorRate * 100, 2), x.jobs.accepted, x.jobs.completedDuringLoad, x.cores.server, x.cores.database, x.cores.others, pass ? 'PASS' : 'FAIL',
        ]),
        notes: [
          `${READ_SHARE * 100}% GET /products, ${100 - READ_SHARE * 100}% POST /heavy-process, no think time; arrivals spread over 20 slots a second`,
          `highest rate meeting the SLA: ${best === undefined ? 'none' : `${best} requests/s`}${worst === undefined ? ` (no step failed; --max-rate ${s.maxRate})` : `; first failing: ${worst} requests/s`}`,
          'each step starts with no heavy job left from the one before; one that shared the machine (others > 0.5 cores) was measured again',
          ...CORES_NOTES,
        ],
      },
    ];
    const breached = best === undefined ? [`no arrival rate met the SLA (lowest tried: ${Math.min(...steps.map((x) => x.rate))}/s)`] : [];
    return { tables, data: { settings: s, highestPassingRate: best ?? null, firstFailingRate: worst ?? null, steps }, breached };
  });
}

export const scenario: Scenario = {
  description: 'the catalog recipe under its SLA: 50 users, 70% GET /products, 30% POST /heavy-process, 1 s think time',
  options: Object.fromEntries(
    ['mode', 'backend', 'duration', 'vus', 'spread-ms', 'step-duration', 'start-rate', 'max-rate', 'max-steps', 'concurrency', 'wait-quiet'].map((flag) => [flag, { type: 'string' as const }]),
  ),
  usage: [
    '--mode closed|open     closed: users with think time (default); open: search the highest arrival rate meeting the SLA',
    '--backend pglite|postgres|redis   storage of the server under test (default pglite)',
    '--duration <s>         closed loop length (default 120; --quick 10)',
    '--vus <n>              virtual users (default 50); --spread-ms <ms> their start spread (default 1000, 0 = all at once)',
    '--step-duration <s>    open loop step length (default 10; --quick 5); --start-rate, --max-rate, --max-steps',
    '--concurrency <n>      heavy jobs run at once by the server (default 16)',
    '--wait-quiet <s>       before each phase, wait up to this long for other processes to go idle (default 60; --quick 0)',
  ],
  async run({ quick, values, progress }) {
    const s = settings(quick, values);
    return s.mode === 'closed' ? closedLoop(s, progress) : openLoop(s, progress);
  },
};
