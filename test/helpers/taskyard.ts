import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { Cluster } from 'ioredis';
import pg from 'pg';
import { connectRedis, parseRedisUrl, untilReady } from '../../src/engine/redis-connection.js';
import { createTaskyard, type Taskyard, type TaskyardOptions } from '../../src/taskyard.js';

/** The real PostgreSQL every test machine runs (CI included). */
export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The real Redis every test machine runs (no persistence). */
export const REDIS_URL = `redis://127.0.0.1:${process.env.TEST_REDIS_PORT ?? 6379}`;

export type BackendName = 'pglite' | 'postgres' | 'redis';
/** The behavioural suite runs once per backend ('redis' keeps history in PostgreSQL). */
export const BACKENDS: readonly BackendName[] = ['pglite', 'postgres', 'redis'];

export function uniqueName(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * Options that give a test its own storage: a fresh in-memory PGlite, fresh
 * schemas on PostgreSQL, plus (for redis) a Redis key prefix of its own.
 */
export function isolatedStorage(backend: BackendName): Partial<TaskyardOptions> {
  if (backend === 'pglite') return { dataDir: 'memory://' };
  const suffix = randomBytes(5).toString('hex');
  const postgres = { databaseUrl: DATABASE_URL, historySchema: `ty_${suffix}`, engineSchema: `bq_${suffix}` };
  return backend === 'redis' ? { ...postgres, redisUrl: REDIS_URL, redisPrefix: `ty_${suffix}` } : postgres;
}

export interface StartedTaskyard {
  taskyard: Taskyard;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts Taskyard on a random port with its own storage; quiet logs. Schemas it
 * made up itself are dropped on stop (ones the caller passed are the caller's).
 */
export async function startTaskyard(backend: BackendName, options: Partial<TaskyardOptions> = {}): Promise<StartedTaskyard> {
  const own = options.databaseUrl || options.dataDir ? {} : isolatedStorage(backend);
  const taskyard = createTaskyard({
    port: 0,
    logLevel: 'silent',
    env: false,
    cancelGraceMs: 1000,
    shutdownGraceMs: 2000,
    ...own,
    ...options,
  });
  await taskyard.start();
  return {
    taskyard,
    url: taskyard.url ?? '',
    stop: async () => {
      await taskyard.stop();
      await dropSchemas(own);
    },
  };
}

/** Drops the schemas (and Redis keys) a test created. */
export async function dropSchemas(options: Partial<TaskyardOptions>): Promise<void> {
  if (options.redisUrl && options.redisPrefix) await deleteRedisKeys(options.redisUrl, options.redisPrefix);
  if (!options.databaseUrl) return;
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    for (const schema of [options.historySchema, options.engineSchema]) {
      if (schema) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
    // Recipes keep their tables in `<history schema>_<recipe>`.
    if (options.historySchema) {
      const { rows } = await client.query<{ name: string }>(
        "SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1)",
        [`${options.historySchema}_`],
      );
      for (const { name } of rows) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Deletes every key of a prefix: BullMQ's `{prefix}:…` and the event log's
 * `{prefix:pN}:…`. Any Taskyard Redis URL works; a Cluster is scanned master by master.
 */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const client = connectRedis(parseRedisUrl(url));
  client.on('error', () => undefined);
  try {
    await untilReady(client, 5000);
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        // `{prefix}…` (queues, events) and `prefix:…` (recipes' cache and locks).
        const [next, keys] = await node.scan(cursor, 'MATCH', `*${prefix}[:}]*`, 'COUNT', 1000);
        const ours = keys.filter((key) => key.startsWith(`{${prefix}`) || key.startsWith(`${prefix}:`));
        // One key per DEL: a Cluster node refuses a DEL whose keys span slots.
        if (ours.length > 0) await node.pipeline(ours.map((key) => ['del', key])).exec();
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls `read` every 50 ms until it returns a value (not undefined); throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for a job to reach a terminal status, by polling its JSON events. */
export async function waitForTerminal(url: string, id: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getJson(`${url}/v1/jobs/${id}`);
    if (['completed', 'failed', 'cancelled'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads a whole SSE response (until the server closes it) into events. */
export async function readSse(url: string, headers: Record<string, string> = {}): Promise<Array<{ id: number; event: string; data: any }>> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } });
  if (res.status !== 200) throw new Error(`SSE ${url} answered ${res.status}: ${await res.text()}`);
  return parseSse(await res.text());
}

export function parseSse(text: string): Array<{ id: number; event: string; data: any }> {
  const events: Array<{ id: number; event: string; data: any }> = [];
  for (const block of text.split('\n\n')) {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const match = /^(id|event|data): ?(.*)$/.exec(line);
      if (match) fields[match[1]!] = match[2]!;
    }
    if (fields.id !== undefined && fields.event !== undefined) {
      events.push({ id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data ?? 'null') });
    }
  }
  return events;
}

/**
 * One Taskyard for the enclosing `describe`: started before its tests (with the
 * fixture tasks unless `options.tasks` says otherwise), stopped after, its
 * schemas dropped. `onStart` receives it.
 */
export function useTaskyard(backend: BackendName, options: Partial<TaskyardOptions>, onStart: (started: StartedTaskyard) => void): void {
  let started: StartedTaskyard | undefined;
  before(async () => {
    started = await startTaskyard(backend, { tasks: ['test/fixtures/tasks.ts'], ...options });
    onStart(started);
  });
  after(async () => {
    await started?.stop();
  });
}
