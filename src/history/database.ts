import pg from 'pg';
import type { PglitePool } from '../engine/pglite-pool.js';

/**
 * The one handle history code uses to reach its database: real PostgreSQL
 * (node-postgres pool plus one dedicated LISTEN connection) or the embedded
 * PGlite pool. Nothing else in Taskyard writes SQL.
 */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
  /** Runs `fn` on one session inside BEGIN/COMMIT (ROLLBACK on throw). */
  transaction<T>(fn: (session: Session) => Promise<T>): Promise<T>;
  /** Subscribes to a NOTIFY channel; resolves once the LISTEN is active. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface Session {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

// Make node-postgres hand back int8 as a JS number where it is safe: our seqs and counts are small.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
});

export function postgresDatabase(connectionString: string, options: { max?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  let listener: pg.Client | undefined;
  let listenerReady: Promise<pg.Client> | undefined;
  const handlers = new Map<string, Set<(payload: string) => void>>();

  const connectListener = (): Promise<pg.Client> => {
    listenerReady ??= (async () => {
      const client = new pg.Client({ connectionString, keepAlive: true });
      client.on('error', () => {
        // Rebuild the LISTEN connection on the next subscribe and re-LISTEN what we had.
        listener = undefined;
        listenerReady = undefined;
        setTimeout(() => void resubscribe(), 500).unref();
      });
      client.on('notification', (msg) => {
        for (const handler of handlers.get(msg.channel) ?? []) handler(msg.payload ?? '');
      });
      await client.connect();
      listener = client;
      return client;
    })();
    return listenerReady;
  };

  const resubscribe = async (): Promise<void> => {
    if (handlers.size === 0) return;
    try {
      const client = await connectListener();
      for (const channel of handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch {
      setTimeout(() => void resubscribe(), 1000).unref();
    }
  };

  return {
    kind: 'postgres',
    query: async <R>(text: string, params?: readonly unknown[]) => (await pool.query(text, params as unknown[])) as unknown as { rows: R[] },
    async transaction(fn) {
      const client = await pool.connect();
      const session: Session = {
        query: async <R>(text: string, params?: readonly unknown[]) =>
          (await client.query(text, params as unknown[])) as unknown as { rows: R[] },
      };
      return inTransaction(session, fn, () => client.release());
    },
    async listen(channel, onPayload) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        const client = await connectListener();
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      set.add(onPayload);
      return async () => {
        const current = handlers.get(channel);
        current?.delete(onPayload);
        if (current && current.size === 0) {
          handlers.delete(channel);
          await listener?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
        }
      };
    },
    async close() {
      const client = listener;
      listener = undefined;
      handlers.clear();
      await client?.end().catch(() => undefined);
      await pool.end();
    },
  };
}

/** History on the embedded PGlite, sharing the pool BullMQ uses. */
export function pgliteDatabase(pool: PglitePool, options: { ownsPool: boolean }): Database {
  const listener = pool.connect();
  return {
    kind: 'pglite',
    query: (text, params) => pool.query(text, params),
    async transaction(fn) {
      const client = await pool.connect();
      return inTransaction(client, fn, () => client.release());
    },
    async listen(channel, onPayload) {
      const client = await listener;
      const quoted = `"${channel.replaceAll('"', '""')}"`;
      const handler = (msg: { channel: string; payload?: string }): void => {
        if (msg.channel === channel) onPayload(msg.payload ?? '');
      };
      client.on('notification', handler);
      await client.query(`LISTEN ${quoted}`);
      return async () => {
        client.off('notification', handler);
        if (client.listenerCount('notification') === 0) await client.query(`UNLISTEN ${quoted}`).catch(() => undefined);
      };
    },
    async close() {
      (await listener).release();
      if (options.ownsPool) await pool.end();
    },
  };
}

/** BEGIN, run, COMMIT — or ROLLBACK on throw — then hand the session back. */
async function inTransaction<T>(session: Session, fn: (session: Session) => Promise<T>, release: () => void): Promise<T> {
  try {
    await session.query('BEGIN');
    const result = await fn(session);
    await session.query('COMMIT');
    return result;
  } catch (error) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    release();
  }
}

/** Quotes a schema name after checking it is a plain identifier (it is spliced into SQL). */
export function schemaIdent(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(`Schema name "${schema}" must be lower-case letters, digits and underscores`);
  }
  return `"${schema}"`;
}

/** Socket errors and PostgreSQL's "connection" and "shutting down" classes: the database is away, not the request wrong. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300']);

/** True when an error means the database (or queue backend) cannot be reached right now. */
export function isUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|pool is closed|Connection is closed/i.test(error.message);
}
