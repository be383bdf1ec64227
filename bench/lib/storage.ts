// Fresh storage for one bench server, dropped afterwards: a new PGlite dir, new
// PostgreSQL schemas (recipes' `<history>_<recipe>` schemas included), and on
// Redis a key prefix of its own.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { BenchServerOptions } from './bench-server.js';
import { dropKeys } from './bull-queues.js';

export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const STORAGE_BACKENDS = ['pglite', 'postgres', 'redis'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

export function parseBackend(value: unknown, fallback: StorageBackend = 'pglite'): StorageBackend {
  const backend = String(value ?? fallback);
  if (!(STORAGE_BACKENDS as readonly string[]).includes(backend)) throw new Error(`--backend: "${backend}" is not one of ${STORAGE_BACKENDS.join(', ')}`);
  return backend as StorageBackend;
}

export async function withStorage<T>(backend: StorageBackend, fn: (storage: BenchServerOptions) => Promise<T>): Promise<T> {
  if (backend === 'pglite') {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskyard-bench-'));
    try {
      return await fn({ dataDir });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const suffix = randomBytes(4).toString('hex');
  const storage: BenchServerOptions = { databaseUrl: DATABASE_URL, historySchema: `bench_ty_${suffix}`, engineSchema: `bench_bq_${suffix}` };
  if (backend === 'redis') Object.assign(storage, { redisUrl: REDIS_URL, redisPrefix: `bench-ty-${suffix}` });
  try {
    return await fn(storage);
  } finally {
    await dropSchemasLike(DATABASE_URL, `bench_%_${suffix}%`);
    if (backend === 'redis') {
      // BullMQ's keys are `{prefix}:…`, the event log's `{prefix:p<n>}:…`, recipes' cache and locks `prefix:…`.
      await dropKeys(REDIS_URL, `{bench-ty-${suffix}*`);
      await dropKeys(REDIS_URL, `bench-ty-${suffix}:*`);
    }
  }
}

async function dropSchemasLike(databaseUrl: string, pattern: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1', [pattern]);
    for (const { name } of rows) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}
