import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PARTITIONS, RedisKeys } from '../../src/events/redis-keys.js';
import { killAllCli, spawnCli, waitForExit, type CliProcess } from '../helpers/cli-process.js';
import { compare, SseFollower, WsSubscriber, type LogEvent } from '../helpers/live-followers.js';
import { dropSchemas, getJson, isolatedStorage, postJson, waitForTerminal } from '../helpers/taskyard.js';

/**
 * Redis mode as deployed: API instances and workers are separate processes
 * sharing one Redis and one PostgreSQL. Any instance serves any job's events,
 * whichever instance projected them, so a client whose instance dies resumes
 * on another with Last-Event-ID and sees every event once, in order.
 */

const TASKS = 'test/fixtures/tasks.ts';
/** Small, so a killed instance's unprojected entries are claimed by a live one within a second or two. */
const PROJECTOR_CLAIM_MS = 1000;
/**
 * Jobs at once per worker process. Each is a sandbox thread, and from source
 * (tsx) a thread takes a second or two of CPU to start: more would only slow a
 * 2-core machine down.
 */
const WORKER_CONCURRENCY = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A port free right now, so an instance can be restarted on the address its clients know. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, describeState: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms ${describeState()}`);
    await sleep(50);
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

/** One Redis deployment: its storage, and its API and worker processes. */
class Deployment {
  readonly storage = isolatedStorage('redis');
  private readonly redisFlags = ['--redis', this.storage.redisUrl!, '--redis-prefix', this.storage.redisPrefix!, '--tasks', TASKS, '--log-level', 'warn'];

  /** `taskyard api` on a fixed port; resolves once it listens. */
  async startApi(port: number): Promise<CliProcess> {
    const proc = spawnCli([
      'api',
      ...this.redisFlags,
      '--database', this.storage.databaseUrl!,
      '--history-schema', this.storage.historySchema!,
      '--engine-schema', this.storage.engineSchema!,
      '--port', String(port),
      '--projector-claim', String(PROJECTOR_CLAIM_MS),
    ]);
    await proc.waitForOutput(/ready at http:\/\/\S+/);
    return proc;
  }

  async startWorker(concurrency: number): Promise<CliProcess> {
    const proc = spawnCli(['worker', ...this.redisFlags, '--concurrency', String(concurrency)]);
    await proc.waitForOutput(/Taskyard worker \d+ is running/);
    return proc;
  }

  /** Each job's status, last seq and stored events, read straight from the history tables. */
  async history(ids: readonly string[]): Promise<Map<string, { status: string; lastSeq: number; events: LogEvent[] }>> {
    const client = new pg.Client({ connectionString: this.storage.databaseUrl! });
    await client.connect();
    try {
      const schema = `"${this.storage.historySchema!}"`;
      const jobs = await client.query<{ id: string; status: string; last_seq: number }>(`SELECT id, status, last_seq FROM ${schema}.jobs WHERE id = ANY($1)`, [ids]);
      const events = await client.query<{ job_id: string; seq: number; type: string; data: unknown; created_at: Date }>(
        `SELECT job_id, seq, type, data, created_at FROM ${schema}.job_events WHERE job_id = ANY($1) ORDER BY job_id, seq`,
        [ids],
      );
      const byJob = new Map<string, LogEvent[]>();
      for (const { job_id, seq, type, data, created_at } of events.rows) {
        let list = byJob.get(job_id);
        if (!list) byJob.set(job_id, (list = []));
        list.push({ seq: Number(seq), type, data, at: created_at.toISOString() });
      }
      return new Map(jobs.rows.map((row) => [row.id, { status: row.status, lastSeq: Number(row.last_seq), events: byJob.get(row.id) ?? [] }]));
    } finally {
      await client.end();
    }
  }

  /** Waits until history holds every job completed, with exactly the events of its log: seqs 1..n, none missing. */
  async historyCaughtUp(logs: ReadonlyMap<string, readonly LogEvent[]>, timeoutMs: number): Promise<void> {
    const ids = [...logs.keys()];
    let behind: string[] = [];
    let rows = new Map<string, { status: string; lastSeq: number; events: LogEvent[] }>();
    await until(
      'history catches up with the event log',
      async () => {
        rows = await this.history(ids);
        behind = ids.filter((id) => {
          const row = rows.get(id);
          const log = logs.get(id)!;
          return !row || row.status !== 'completed' || row.lastSeq !== log.length || !isDeepStrictEqual(row.events, log);
        });
        return behind.length === 0;
      },
      timeoutMs,
      () => {
        // What history holds of the first few, against their log: enough to tell a lost event from a stuck row.
        const detail = behind.slice(0, 3).map((id) => {
          const row = rows.get(id);
          const log = logs.get(id)!;
          const stored = new Set(row?.events.map((e) => e.seq));
          return {
            id,
            status: row?.status,
            lastSeq: row?.lastSeq,
            logLength: log.length,
            missing: log.filter((e) => !stored.has(e.seq)).map((e) => e.seq),
            differing: row?.events.filter((e) => !isDeepStrictEqual(e, log[e.seq - 1])).map((e) => ({ history: e, log: log[e.seq - 1] })),
          };
        });
        return `(${behind.length} jobs behind: ${JSON.stringify(detail)})`;
      },
    );
  }

  async submit(url: string, input: unknown): Promise<string> {
    const { status, body } = await postJson(`${url}/v1/tasks/chatter/jobs`, { input });
    assert.equal(status, 202, JSON.stringify(body));
    return body.id as string;
  }

  /**
   * Entries of the projector groups that the API process `pid` has read but not
   * acknowledged (its consumer name is `<host>-<pid>-<random>`).
   */
  async unacknowledgedBy(pid: number): Promise<number> {
    const redis = new Redis(this.storage.redisUrl!);
    const keys = new RedisKeys(this.storage.redisPrefix!);
    try {
      let n = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        const [, , , consumers] = (await redis.xpending(keys.partitionStream(p), 'projector')) as [number, unknown, unknown, Array<[string, string]> | null];
        for (const [consumer, count] of consumers ?? []) if (consumer.includes(`-${pid}-`)) n += Number(count);
      }
      return n;
    } finally {
      redis.disconnect();
    }
  }
}

/** A chatter job's whole log: queued, active, the partials {i} in order, its result, completed; seqs 1..n. */
function assertChatterLog(log: readonly LogEvent[], count: number, id: string): void {
  assert.deepEqual(
    log.map((event) => event.seq),
    Array.from({ length: count + 4 }, (_, i) => i + 1),
    `job ${id}: gap-free seqs`,
  );
  assert.deepEqual(
    log.map((event) => (event.type === 'status' ? `status:${(event.data as { status: string }).status}` : event.type === 'partial' ? `partial:${(event.data as { i: number }).i}` : `${event.type}:${JSON.stringify(event.data)}`)),
    ['status:queued', 'status:active', ...Array.from({ length: count }, (_, i) => `partial:${i + 1}`), `result:${count}`, 'status:completed'],
    `job ${id}: the whole log`,
  );
}

async function fullLogs(url: string, ids: readonly string[]): Promise<Map<string, LogEvent[]>> {
  const logs = await inParallel(ids, 16, async (id) => {
    const { status, body } = await getJson(`${url}/v1/jobs/${id}/events?limit=10000`);
    assert.equal(status, 200, JSON.stringify(body));
    return (body as Array<Required<LogEvent> & { jobId: string }>).map(({ seq, type, data, at }) => ({ seq, type, data, at }));
  });
  return new Map(ids.map((id, i) => [id, logs[i]!]));
}

describe('two API instances and their workers share one Redis and one PostgreSQL [redis]', () => {
  const deployment = new Deployment();
  const ports: number[] = [];
  const apis: CliProcess[] = [];
  const workers: CliProcess[] = [];
  const url = (i: number): string => `http://127.0.0.1:${ports[i]}`;

  before(async () => {
    ports.push(await freePort(), await freePort());
    // The first instance creates the schemas; the rest then start together.
    apis[0] = await deployment.startApi(ports[0]!);
    const started = await Promise.all([deployment.startApi(ports[1]!), deployment.startWorker(WORKER_CONCURRENCY), deployment.startWorker(WORKER_CONCURRENCY)]);
    apis[1] = started[0];
    workers.push(started[1], started[2]);
    // A job's first run on a worker starts its sandbox thread, which takes a while on a small machine: warm every thread up.
    const warmUp = await inParallel(Array.from({ length: 4 * WORKER_CONCURRENCY }, (_, i) => i), 8, (i) => deployment.submit(url(i % 2), { count: 0, ms: 0 }));
    await Promise.all(warmUp.map((id) => waitForTerminal(url(0), id, 60_000)));
  });
  after(async () => {
    await killAllCli();
    await dropSchemas(deployment.storage);
  });

  test('SSE clients resume on another instance when theirs is killed (SIGKILL) or stopped (SIGTERM) mid-stream', { timeout: 90_000 }, async (t) => {
    const JOBS = 20;
    const PARTIALS = 30;
    const logsOfAll = new Map<string, LogEvent[]>();

    /**
     * Starts JOBS jobs, follows each over SSE from instance `from`, and once
     * every stream is well under way stops that instance with `signal`; the
     * clients carry on at the other instance. Restarts the stopped instance.
     */
    const phase = async (from: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
      const to = 1 - from;
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i++) ids.push(await deployment.submit(url(i % 2), { count: PARTIALS, ms: 100 }));
      const followers = ids.map((id) => new SseFollower(id, [url(from), url(to)], 40_000));
      const finished = Promise.all(followers.map((follower) => follower.finished));
      finished.catch(() => undefined);

      // Mid-stream: every client is connected (it has seq 1, `queued`), and the jobs of the first wave
      // have sent a few partials (seq 2 is `active`, then the partials); the rest are queued, or just starting.
      const midStream = (): boolean => followers.every((f) => f.last >= 1) && followers.filter((f) => f.last >= 6).length >= JOBS / 4;
      await until('every client connected, the first ones receiving partials', midStream, 20_000, () =>
        JSON.stringify(followers.map((f) => f.last)),
      );
      const unfinished = followers.filter((f) => !f.done);
      const stopping = apis[from]!;
      let unacknowledged = 0;
      if (signal === 'SIGKILL') {
        // Frozen first: its projector's blocked reads still take entries it will never acknowledge,
        // so the other instance has something to claim. Then it dies.
        stopping.signal('SIGSTOP');
        await until('the frozen instance holds unacknowledged entries', async () => (unacknowledged = await deployment.unacknowledgedBy(stopping.pid)) > 0, 10_000);
      }
      stopping.signal(signal);
      const exit = await waitForExit(stopping, 15_000);
      assert.equal(signal === 'SIGKILL' ? exit.signal : exit.code, signal === 'SIGKILL' ? 'SIGKILL' : 0, `instance ${from} stopped by ${signal}`);
      if (signal === 'SIGTERM') unacknowledged = await deployment.unacknowledgedBy(stopping.pid);
      // The stopped instance comes back on the same port while its clients finish elsewhere.
      const restarted = deployment.startApi(ports[from]!);
      restarted.catch(() => undefined);

      await finished;
      apis[from] = await restarted;

      const logs = await fullLogs(url(to), ids);
      let resumed = 0;
      for (const follower of followers) {
        const log = logs.get(follower.jobId)!;
        assertChatterLog(log, PARTIALS, follower.jobId);
        assert.deepEqual(
          follower.received,
          log.map(({ at: _at, ...event }) => event),
          `${follower.jobId}: every event exactly once, in order; received seqs ${JSON.stringify(follower.received.map((e) => e.seq))} over ${JSON.stringify(follower.segments)}`,
        );
        resumed += follower.segments.length > 1 ? 1 : 0;
        logsOfAll.set(follower.jobId, log);
      }
      // Every stream was cut (the jobs last seconds), and went on at the other instance.
      assert.ok(unfinished.length >= JOBS / 2, `most streams were cut mid-way (${unfinished.length} of ${JOBS})`);
      for (const follower of unfinished) {
        assert.equal(follower.segments[0]?.url, url(from), `${follower.jobId} started on instance ${from}`);
        assert.ok(
          follower.segments.slice(1).some((segment) => segment.url === url(to)),
          `${follower.jobId} resumed on instance ${to}: ${JSON.stringify(follower.segments)}`,
        );
      }
      t.diagnostic(
        `${signal} instance ${from}: ${resumed}/${JOBS} streams resumed on instance ${to}; it left ${unacknowledged} projector entries unacknowledged`,
      );
    };

    // Killed outright: its projector's unacknowledged entries are claimed by the other instance.
    await phase(0, 'SIGKILL');
    // Stopped gracefully: its streams are closed, and the clients resume on the restarted first instance.
    await phase(1, 'SIGTERM');

    await deployment.historyCaughtUp(logsOfAll, 90_000);
  });

  test('2,000 jobs with partials, followed live over WebSocket on both instances: no gap, no duplicate, in order', { timeout: 150_000 }, async (t) => {
    const JOBS = 2000;
    const PARTIALS = 3;
    const started = Date.now();
    const sockets = await Promise.all([WsSubscriber.open(url(0)), WsSubscriber.open(url(1))]);

    // Submitted to both instances alternately; each job followed on the instance that did not accept it.
    const ids = await inParallel(Array.from({ length: JOBS }, (_, i) => i), 32, async (i) => {
      const id = await deployment.submit(url(i % 2), { count: PARTIALS });
      sockets[(i + 1) % 2]!.subscribe(id);
      return id;
    });
    const submittedIn = (Date.now() - started) / 1000;

    await until(
      'every subscriber sees its job end',
      () => sockets.every((socket) => socket.allEnded()),
      120_000,
      () => sockets.map((socket) => socket.state()).join('; '),
    );
    const liveIn = (Date.now() - started) / 1000;
    for (const socket of sockets) socket.close();

    const logs = await fullLogs(url(0), ids);
    const totals = { events: 0, gaps: 0, duplicates: 0, misordered: 0, changed: 0 };
    const bad: string[] = [];
    for (const id of ids) {
      const log = logs.get(id)!;
      assertChatterLog(log, PARTIALS, id);
      const received = sockets[0]!.received.get(id) ?? sockets[1]!.received.get(id) ?? [];
      const diff = compare(received, log);
      totals.events += received.length;
      totals.gaps += diff.gaps;
      totals.duplicates += diff.duplicates;
      totals.misordered += diff.misordered;
      totals.changed += diff.changed;
      if (diff.gaps + diff.duplicates + diff.misordered + diff.changed > 0 && bad.length < 5) bad.push(`${id}: ${JSON.stringify(diff)} got ${JSON.stringify(received.map((e) => e.seq))}`);
    }
    await deployment.historyCaughtUp(logs, 90_000);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);

    t.diagnostic(
      `jobs=${JOBS} events=${totals.events} gaps=${totals.gaps} duplicates=${totals.duplicates} misordered=${totals.misordered} changed=${totals.changed} ` +
        `seconds=${seconds} (submitted in ${submittedIn.toFixed(1)} s, all live events in ${liveIn.toFixed(1)} s)`,
    );
    assert.deepEqual(sockets.map((socket) => socket.problems), [[], []], 'no error messages, no overflow, no unexpected close');
    assert.deepEqual({ ...totals, bad }, { events: JOBS * (PARTIALS + 4), gaps: 0, duplicates: 0, misordered: 0, changed: 0, bad: [] });
  });
});
