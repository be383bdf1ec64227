import { readdir, readFile } from 'node:fs/promises';
import type { Database } from './database.js';
import { schemaIdent } from './database.js';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{6})_[\w-]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => FILE_NAME.test(file)).sort();
  return Promise.all(
    files.map(async (name) => ({
      version: Number(FILE_NAME.exec(name)![1]),
      name,
      sql: await readFile(new URL(name, dir), 'utf8'),
    })),
  );
}

/**
 * Applies the pending numbered migrations to `schema` in one transaction, with a
 * ledger. Concurrent starters serialise on an advisory lock; late ones see the
 * work done and apply nothing. Returns the versions applied. `dir` holds the
 * migrations (Taskyard's own by default; a recipe passes its own).
 */
export async function migrate(db: Database, schema: string, dir: URL = MIGRATIONS_DIR): Promise<number[]> {
  const ident = schemaIdent(schema);
  const migrations = await loadMigrations(dir);
  return db.transaction(async (session) => {
    // Must come first so concurrent starters wait here rather than racing on CREATE SCHEMA.
    await session.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`taskyard:migrate:${schema}`]);
    await session.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
    await session.query(`SET LOCAL search_path TO ${ident}`);
    await session.query(
      `CREATE TABLE IF NOT EXISTS migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await session.query<{ version: number }>('SELECT version FROM migrations');
    const applied = new Set(rows.map((row) => Number(row.version)));
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await session.query(migration.sql);
      await session.query('INSERT INTO migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}
