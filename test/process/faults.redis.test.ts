// Faults a Redis deployment must ride out without losing a job or an event: a
// worker process killed mid-job (or right after its job's last event), Redis
// itself killed and restarted from its append-only file, and history
// (PostgreSQL) unwritable for a while.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parseRedisUrl } from '../../src/engine/redis-connection.js';
import { RedisEventLog } from '../../src/events/redis-event-log.js';
import { RedisKeys } from '../../src/events/redis-keys.js';
import { RedisPubSub } from '../../src/events/redis-pubsub.js';
import { jobEvents, killAllCli, spawnCli, type CliProcess } from '../helpers/cli-process.js';
import { CuttableProxy } from '../helpers/cuttable-proxy.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-servers.js';
import { DATABASE_URL, dropSchemas, getJson, isolatedStorage, postJson, startTaskyard, waitForTerminal, type StartedTaskyard } from '../helpers/taskyard.js';

const TASKS = 'test/fixtures/tasks.ts';
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

interface LogEvent {
  seq: number;
  type: string;
  data: any;
}

/** A job as history (PostgreSQL) holds it, with its whole event log. */
interface HistoryJob {
  id: string;
  status: string;
  attempts: number;
  lastSeq: number;
  result: any;
  events: LogEvent[];
}

type Storage = ReturnType<typeof isolatedStorage>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 200 ms (gently: the API and workers share two cores with the test). */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, state: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms ${JSON.stringify(state())}`);
    await sleep(200);
  }
}

/** A worker process on the storage's Redis (it needs no database); resolves once it takes jobs. */
async function startWorker(storage: Storage, extra: readonly string[] = []): Promise<CliProcess> {
  const worker = spawnCli(['worker', '--redis', storage.redisUrl!, '--redis-prefix', storage.redisPrefix!, '--tasks', TASKS, '--no-builtins', ...extra]);
  await worker.waitForOutput(/Taskyard worker \d+ is running/);
  return worker;
}

/**
 * Runs one instant job per slot of a worker, so its task threads are up (a
 * cold thread takes seconds to load the task module) before the jobs that count.
 */
async function warmUp(url: string, slots: number): Promise<void> {
  const ids = await submit(url, slots, { count: 0, everyMs: 0 });
  for (const id of ids) assert.equal((await waitForTerminal(url, id)).status, 'completed');
}

async function submit(url: string, count: number, input: unknown): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const accepted = await postJson(`${url}/v1/tasks/pulse/jobs`, { input });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    ids.push(accepted.body.id);
  }
  return ids;
}

/** Each job's status as the API shows it (history plus what the Redis log holds beyond it). */
async function apiStatuses(url: string, ids: readonly string[]): Promise<Map<string, string>> {
  const jobs = await Promise.all(ids.map(async (id) => (await getJson(`${url}/v1/jobs/${id}`)).body));
  return new Map(jobs.map((job, i) => [ids[i]!, String(job?.status)]));
}

const count = (statuses: Map<string, string>, status: string): number => [...statuses.values()].filter((s) => s === status).length;

/** The jobs and their event logs as PostgreSQL itself holds them (the API would add what Redis holds beyond). */
async function readHistory(schema: string, ids: readonly string[]): Promise<Map<string, HistoryJob>> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const jobs = await client.query(`SELECT id, status, attempts, last_seq, result FROM "${schema}".jobs WHERE id = ANY($1)`, [ids]);
    const events = await client.query(`SELECT job_id, seq, type, data FROM "${schema}".job_events WHERE job_id = ANY($1) ORDER BY job_id, seq`, [ids]);
    const out = new Map<string, HistoryJob>();
    for (const row of jobs.rows) out.set(row.id, { id: row.id, status: row.status, attempts: row.attempts, lastSeq: row.last_seq, result: row.result, events: [] });
    for (const row of events.rows) out.get(row.job_id)?.events.push({ seq: row.seq, type: row.type, data: row.data });
    return out;
  } finally {
    await client.end();
  }
}

/** Waits until history holds every job finished, its row caught up with the whole log. */
async function waitForHistory(schema: string, ids: readonly string[], timeoutMs: number): Promise<Map<string, HistoryJob>> {
  let history = new Map<string, HistoryJob>();
  const caughtUp = (job: HistoryJob | undefined): boolean =>
    job !== undefined && TERMINAL.has(job.status) && job.lastSeq === job.events.length && job.events.at(-1)?.seq === job.lastSeq;
  await until(
    'every job finished in history',
    async () => {
      history = await readHistory(schema, ids);
      return ids.every((id) => caughtUp(history.get(id)));
    },
    timeoutMs,
    () => ids.filter((id) => !caughtUp(history.get(id))).map((id) => ({ id, status: history.get(id)?.status, lastSeq: history.get(id)?.lastSeq })),
  );
  return history;
}

/** Status events as `status#attempt`. */
function statusTrail(events: readonly LogEvent[]): string[] {
  return events.filter((e) => e.type === 'status').map((e) => `${e.data.status}${e.data.attempt === undefined ? '' : `#${e.data.attempt}`}`);
}

/** Gap-free seqs from 1, exactly one result, and a completed ending. */
function assertWholeLog(job: HistoryJob): void {
  const { id, events } = job;
  assert.equal(job.status, 'completed', `job ${id} completed (${JSON.stringify(statusTrail(events))})`);
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    `job ${id}: gap-free seqs from 1`,
  );
  assert.equal(events.filter((e) => e.type === 'result').length, 1, `job ${id}: exactly one result (${JSON.stringify(statusTrail(events))})`);
}

/** The partials of a run of `pulse`: `{ i, attempt }` for i = 1..count. */
const pulsePartials = (count: number, attempt: number): Array<{ i: number; attempt: number }> =>
  Array.from({ length: count }, (_, i) => ({ i: i + 1, attempt }));

/** What the API serves for a job (row and JSON event log) is what history holds. */
async function assertApiAgrees(url: string, job: HistoryJob): Promise<void> {
  const view = await getJson(`${url}/v1/jobs/${job.id}`);
  assert.equal(view.status, 200);
  assert.equal(view.body.status, 'completed');
  assert.equal(view.body.attempts, job.attempts);
  assert.deepEqual(view.body.result, job.result);
  const events = await jobEvents(url, job.id);
  assert.deepEqual(
    events.map(({ seq, type, data }) => ({ seq, type, data })),
    job.events,
    `job ${job.id}: the API's event log is history's`,
  );
}

describe('a worker process killed with SIGKILL mid-job [redis]', () => {
  const storage = isolatedStorage('redis');
  const JOBS = 40;
  const PULSES = 4;
  let api: StartedTaskyard | undefined;

  after(async () => {
    await killAllCli();
    await api?.stop();
    await dropSchemas(storage);
  });

  test('its running jobs are re-run by another worker (attempt 2, one result); nothing is lost', { timeout: 60_000 }, async () => {
    api = await startTaskyard('redis', { role: 'api', ...storage, tasks: [TASKS], builtins: false });
    // A short lock: a dead worker's jobs are re-run after about 2 s.
    const workerFlags = ['--concurrency', '4', '--lock-duration', '2000'];
    const a = await startWorker(storage, workerFlags);
    await warmUp(api.url, 4);
    const ids = await submit(api.url, JOBS, { count: PULSES, everyMs: 125 });

    let statuses = new Map<string, string>();
    await until(
      'A finished some jobs and runs others',
      async () => {
        statuses = await apiStatuses(api!.url, ids);
        return count(statuses, 'completed') >= 2 && count(statuses, 'active') >= 1;
      },
      20_000,
      () => Object.fromEntries([...new Set(statuses.values())].map((s) => [s, count(statuses, s)])),
    );
    await a.kill();

    // A is dead: its jobs' logs say how far it got.
    statuses = await apiStatuses(api.url, ids);
    const finishedOnA = ids.filter((id) => statuses.get(id) === 'completed');
    const runningOnA = ids.filter((id) => statuses.get(id) === 'active');
    const notStarted = ids.filter((id) => statuses.get(id) === 'queued');
    assert.equal(finishedOnA.length + runningOnA.length + notStarted.length, JOBS, JSON.stringify([...statuses]));
    assert.ok(finishedOnA.length > 0 && runningOnA.length > 0 && notStarted.length > 0, JSON.stringify([...statuses]));

    const b = await startWorker(storage, workerFlags);
    const history = await waitForHistory(storage.historySchema!, ids, 40_000);

    for (const id of ids) {
      const job = history.get(id)!;
      assertWholeLog(job);
      const partials = job.events.filter((e) => e.type === 'partial').map((e) => e.data);
      if (runningOnA.includes(id)) {
        assert.deepEqual(statusTrail(job.events), ['queued', 'active#1', 'active#2', 'completed#2'], `job ${id} ran again after A died`);
        assert.equal(job.attempts, 2);
        assert.deepEqual(job.result, { pid: b.pid, attempt: 2 });
        // A's partials up to its death, then B's run whole.
        const fromA = partials.filter((p) => p.attempt === 1);
        assert.deepEqual(fromA, pulsePartials(fromA.length, 1));
        assert.deepEqual(partials.slice(fromA.length), pulsePartials(PULSES, 2));
      } else {
        assert.deepEqual(statusTrail(job.events), ['queued', 'active#1', 'completed#1'], `job ${id} ran once`);
        assert.equal(job.attempts, 1);
        assert.deepEqual(job.result, { pid: finishedOnA.includes(id) ? a.pid : b.pid, attempt: 1 });
        assert.deepEqual(partials, pulsePartials(PULSES, 1));
      }
    }
    for (const id of [...runningOnA, finishedOnA[0]!, notStarted[0]!]) await assertApiAgrees(api.url, history.get(id)!);
  });
});

describe('a worker dies after its job ended in the log, before the queue heard of it [redis]', () => {
  const storage = isolatedStorage('redis');
  let api: StartedTaskyard | undefined;
  let b: StartedTaskyard | undefined;

  after(async () => {
    await b?.stop();
    await api?.stop();
    await dropSchemas(storage);
  });

  test('the job is not run again: one run, one result', { timeout: 30_000 }, async () => {
    api = await startTaskyard('redis', { role: 'api', ...storage, tasks: [TASKS], builtins: false });
    const [id] = await submit(api.url, 1, { count: 1, everyMs: 0 });

    // Worker A, by hand, to die at the one instant that matters: it takes the
    // job (a 1 s lock), writes its run to the end, and is gone before it tells BullMQ.
    const connection = new Redis(storage.redisUrl!, { maxRetriesPerRequest: null });
    const a = new Worker('default', null, { connection, prefix: `{${storage.redisPrefix}}`, lockDuration: 1000 });
    const pubsub = new RedisPubSub(parseRedisUrl(storage.redisUrl!));
    try {
      assert.equal((await a.getNextJob('worker-a', { block: false }))?.id, id);
      const log = new RedisEventLog(connection, new RedisKeys(storage.redisPrefix!), pubsub);
      const fence = await log.beginAttempt(id!);
      await log.append(
        id!,
        [
          { type: 'partial', data: { i: 1, attempt: fence } },
          { type: 'result', data: { pid: 0, attempt: fence } },
          { type: 'status', data: { status: 'completed', attempt: fence } },
        ],
        fence,
      );
    } finally {
      await a.close(true);
      await pubsub.close();
      connection.disconnect();
    }

    // Worker B finds the job stalled (its lock lapsed) and takes it; it must not run it again.
    b = await startTaskyard('redis', { role: 'worker', ...storage, tasks: [TASKS], builtins: false, lockDurationMs: 1000 });
    const redis = new Redis(storage.redisUrl!);
    try {
      await until('B took the stalled job and the queue let it go', async () => (await redis.exists(`{${storage.redisPrefix}}:default:${id}`)) === 0, 20_000);
    } finally {
      redis.disconnect();
    }

    const job = (await waitForHistory(storage.historySchema!, [id!], 10_000)).get(id!)!;
    assertWholeLog(job);
    assert.deepEqual(statusTrail(job.events), ['queued', 'active#1', 'completed#1']);
    assert.deepEqual(job.result, { pid: 0, attempt: 1 }, "A's result stands");
    await assertApiAgrees(api.url, job);
  });
});

describe('Redis killed and restarted from its append-only file [redis]', () => {
  let redis: RedisServer | undefined;
  let storage: Storage | undefined;
  let api: StartedTaskyard | undefined;

  after(async () => {
    await killAllCli();
    await api?.stop();
    // The server and its keys go with its directory.
    if (storage) await dropSchemas({ databaseUrl: storage.databaseUrl!, historySchema: storage.historySchema!, engineSchema: storage.engineSchema! });
    await redis?.stop();
  });

  test('every accepted job still runs once; meanwhile /ready and enqueue answer 503, then recover by themselves', { timeout: 60_000 }, async () => {
    redis = await startRedisServer({ appendonly: true });
    storage = { ...isolatedStorage('redis'), redisUrl: redis.url };
    api = await startTaskyard('redis', { role: 'api', ...storage, tasks: [TASKS], builtins: false });
    const input = { count: 4, everyMs: 200 };

    // Accepted while no worker runs: they wait in Redis.
    const before = await submit(api.url, 6, input);
    const worker = await startWorker(storage, ['--concurrency', '2']);
    // Kill Redis while task code runs and streams (not while threads are still loading).
    await until('a job streams partials', async () => (await jobEvents(api!.url, before[0]!)).some((e) => e.type === 'partial'), 20_000);

    await redis.kill();
    const ready = await getJson(`${api.url}/ready`);
    assert.equal(ready.status, 503, JSON.stringify(ready.body));
    assert.equal(ready.body.error.code, 'TASKYARD_ERR_NOT_READY');
    const refused = await fetch(`${api.url}/v1/tasks/pulse/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input }),
    });
    const refusal = (await refused.json()) as { error: { code: string } };
    assert.equal(refused.status, 503, JSON.stringify(refusal));
    assert.match(refusal.error.code, /^TASKYARD_ERR_(ENQUEUE_FAILED|NOT_READY)$/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'a 503 says when to come back');
    // Reads still answer, from history (a moment old), and the live log read fails fast instead of hanging.
    const lookup = await getJson(`${api.url}/v1/jobs/${before[0]}`);
    assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
    assert.equal(lookup.body.id, before[0]);
    const replay = await getJson(`${api.url}/v1/jobs/${before[0]}/events?after=1`);
    assert.equal(replay.status, 503, JSON.stringify(replay.body));
    assert.equal(replay.body.error.code, 'TASKYARD_ERR_NOT_READY');
    // Let the worker and the API notice, and retry against nothing, for a moment.
    await sleep(1000);

    await redis.restart();
    await until('the API is ready again', async () => (await getJson(`${api!.url}/ready`)).status === 200, 30_000);
    const afterRestart = await submit(api.url, 2, input);

    const ids = [...before, ...afterRestart];
    const history = await waitForHistory(storage.historySchema!, ids, 40_000);
    for (const id of ids) {
      const job = history.get(id)!;
      assertWholeLog(job);
      assert.deepEqual(statusTrail(job.events), ['queued', 'active#1', 'completed#1'], `job ${id} ran once`);
      assert.deepEqual(job.result, { pid: worker.pid, attempt: 1 });
      assert.deepEqual(
        job.events.filter((e) => e.type === 'partial').map((e) => e.data),
        pulsePartials(input.count, 1),
      );
      await assertApiAgrees(api.url, job);
    }
    assert.equal(worker.child.exitCode, null, 'the worker rode out the restart');
  });
});

describe('history (PostgreSQL) unwritable for a while [redis]', () => {
  const proxy = new CuttableProxy();
  const storage = isolatedStorage('redis');
  let api: StartedTaskyard | undefined;

  after(async () => {
    await proxy.open();
    await killAllCli();
    await api?.stop();
    await proxy.cut();
    await dropSchemas(storage);
  });

  test('jobs finish meanwhile, and history catches up with every event once the database is back', { timeout: 60_000 }, async () => {
    await proxy.open();
    // Only the API (and its projector) reaches PostgreSQL, through the proxy; the worker needs Redis only.
    api = await startTaskyard('redis', { role: 'api', ...storage, databaseUrl: proxy.url, tasks: [TASKS], builtins: false });
    await startWorker(storage, ['--concurrency', '4']);
    await warmUp(api.url, 4);
    const PULSES = 6;
    // Accepted before the outage: the API stores a job in history before it answers 202.
    const ids = await submit(api.url, 8, { count: PULSES, everyMs: 150 });
    let statuses = new Map<string, string>();
    await until('the worker runs jobs', async () => count((statuses = await apiStatuses(api!.url, ids)), 'active') >= 1, 20_000, () => [...statuses]);
    const notStarted = ids.filter((id) => statuses.get(id) === 'queued');
    await proxy.cut();

    const lookup = await getJson(`${api.url}/v1/jobs/${ids[0]}`);
    assert.equal(lookup.status, 503, JSON.stringify(lookup.body));
    assert.equal(lookup.body.error.code, 'TASKYARD_ERR_NOT_READY');

    // The worker writes to Redis only: every job finishes during the outage.
    const redis = new Redis(storage.redisUrl!);
    const keys = new RedisKeys(storage.redisPrefix!);
    const finishedInRedis = async (id: string): Promise<boolean> => {
      const [last] = await redis.xrevrange(keys.jobLog(id), '+', '-', 'COUNT', 1);
      const fields = new Map<string, string>();
      for (let i = 0; last && i + 1 < last[1].length; i += 2) fields.set(last[1][i]!, last[1][i + 1]!);
      return fields.get('t') === 'status' && TERMINAL.has(JSON.parse(fields.get('d') ?? '{}').status);
    };
    try {
      await until('every job finished in Redis', async () => (await Promise.all(ids.map(finishedInRedis))).every(Boolean), 20_000);
    } finally {
      redis.disconnect();
    }
    // Let the projector fail a few more times before history comes back.
    await sleep(1000);
    const during = await readHistory(storage.historySchema!, ids);
    assert.ok(notStarted.length > 0, 'some jobs started only after the outage began');
    for (const id of notStarted) {
      assert.notEqual(during.get(id)?.status, 'completed', `job ${id}: its end did not reach history during the outage`);
    }

    await proxy.open();
    const history = await waitForHistory(storage.historySchema!, ids, 30_000);
    for (const id of ids) {
      const job = history.get(id)!;
      assertWholeLog(job);
      assert.deepEqual(statusTrail(job.events), ['queued', 'active#1', 'completed#1'], `job ${id} ran once`);
      assert.deepEqual(
        job.events.filter((e) => e.type === 'partial').map((e) => e.data),
        pulsePartials(PULSES, 1),
      );
      await assertApiAgrees(api.url, job);
    }
  });
});
