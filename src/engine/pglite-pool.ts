import { EventEmitter } from 'node:events';
import { PGlite, types } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { templateFor } from './pglite-template.js';

/**
 * A `pg.Pool`-shaped adapter over one in-process PGlite database, so BullMQ's
 * PostgreSQL backend (and our history) can run with no database server.
 *
 * PGlite is one session: every "client" shares it. Statements are therefore
 * serialised through one queue, and a client that opens a transaction holds the
 * queue until COMMIT/ROLLBACK so no other statement lands inside it.
 * `LISTEN`/`UNLISTEN` are routed through `pglite.listen()` so notifications
 * reach the client that asked for them.
 */

export interface QueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

export interface Notification {
  channel: string;
  payload?: string;
  processId?: number;
}

type Release = () => void;

/** A FIFO mutex: one holder at a time, in arrival order. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<Release> {
    let release!: Release;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

const BEGIN = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const END = /^\s*(COMMIT|ROLLBACK|END|ABORT)\b(?!\s+TO\b)/i;
const LISTEN = /^\s*(UNLISTEN|LISTEN)\s+("(?:[^"]|"")+"|[A-Za-z_][\w$]*|\*)\s*;?\s*$/i;

/** Parse the way node-postgres does, so BullMQ sees the values it expects. */
const pgCompatibleParsers = {
  [types.INT8]: (value: string) => value,
  [types.NUMERIC]: (value: string) => value,
};

export interface PglitePoolOptions {
  /** `memory://` or a directory path. */
  dataDir: string;
  /** Schemas put on the session's search_path (BullMQ's queries are unqualified). */
  searchPath?: string[];
}

export class PglitePool extends EventEmitter {
  private readonly mutex = new Mutex();
  private closed = false;

  private constructor(readonly db: PGlite) {
    super();
  }

  static async open(options: PglitePoolOptions): Promise<PglitePool> {
    const template = await templateFor(options.dataDir);
    const db = await PGlite.create(options.dataDir, {
      parsers: pgCompatibleParsers,
      // History's text search is indexed by trigrams (its migration creates the extension).
      extensions: { pg_trgm },
      ...(template ? { loadDataDir: template } : {}),
    });
    const pool = new PglitePool(db);
    if (options.searchPath?.length) {
      const path = options.searchPath.map(quoteIdent).join(', ');
      for (const schema of options.searchPath) {
        await db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      }
      await db.query(`SET search_path TO ${path}`);
    }
    return pool;
  }

  /** Run one statement outside any client's transaction. */
  async query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const release = await this.mutex.acquire();
    try {
      return await this.run<R>(text, params);
    } finally {
      release();
    }
  }

  async connect(): Promise<PglitePoolClient> {
    if (this.closed) throw new Error('PGlite pool is closed');
    return new PglitePoolClient(this);
  }

  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const release = await this.mutex.acquire();
    try {
      await this.db.close();
    } finally {
      release();
    }
  }

  /**
   * PGlite runs PostgreSQL single-user, so autovacuum never runs and every
   * update leaves a dead row. Vacuum on a timer instead (a pause of a few ms).
   * Returns the function that stops it.
   */
  autovacuum(intervalMs = 60_000): () => void {
    const timer = setInterval(() => {
      if (!this.closed) void this.query('VACUUM').catch(() => undefined);
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal used by clients that already hold the mutex. */
  acquire(): Promise<Release> {
    return this.mutex.acquire();
  }

  /** @internal runs a statement; the caller holds the mutex. */
  async run<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    if (this.closed) throw new Error('PGlite pool is closed');
    if (params && params.length > 0) {
      const result = await this.db.query<R>(text, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    }
    // No parameters: the simple protocol, which also accepts several statements
    // (BullMQ's migrations are multi-statement files). pg returns the last result.
    const results = await this.db.exec(text);
    const last = results[results.length - 1];
    const rows = (last?.rows ?? []) as R[];
    return { rows, rowCount: last?.affectedRows ?? rows.length };
  }
}

export class PglitePoolClient extends EventEmitter {
  private txRelease: Release | undefined;
  private readonly unlisteners = new Map<string, () => Promise<void>>();
  private released = false;

  constructor(private readonly pool: PglitePool) {
    super();
  }

  async query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    if (this.released) throw new Error('PGlite client was released');
    const listen = LISTEN.exec(stripComments(text));
    if (listen && (!params || params.length === 0)) {
      await this.listenStatement(listen[1]!.toUpperCase(), listen[2]!);
      return { rows: [], rowCount: 0 };
    }
    if (this.txRelease) {
      const result = await this.pool.run<R>(text, params);
      if (END.test(text)) this.endTransaction();
      return result;
    }
    const release = await this.pool.acquire();
    try {
      const result = await this.pool.run<R>(text, params);
      if (BEGIN.test(text)) {
        // Keep the session to ourselves until the transaction ends.
        this.txRelease = release;
        return result;
      }
      release();
      return result;
    } catch (error) {
      release();
      throw error;
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.txRelease) {
      // Released mid-transaction (pg would destroy the connection): roll back.
      const release = this.txRelease;
      this.txRelease = undefined;
      void this.pool.run('ROLLBACK').catch(() => undefined).finally(release);
    }
    const unlisteners = [...this.unlisteners.values()];
    this.unlisteners.clear();
    if (unlisteners.length > 0) {
      // pglite's UNLISTEN is a statement too: never inside another client's transaction.
      void this.pool.acquire().then(async (release) => {
        try {
          for (const unlisten of unlisteners) await unlisten().catch(() => undefined);
        } finally {
          release();
        }
      });
    }
  }

  private endTransaction(): void {
    const release = this.txRelease;
    this.txRelease = undefined;
    release?.();
  }

  private async listenStatement(verb: string, rawChannel: string): Promise<void> {
    if (verb === 'UNLISTEN') {
      const channels = rawChannel === '*' ? [...this.unlisteners.keys()] : [unquoteIdent(rawChannel)];
      // pglite's unlisten runs UNLISTEN: keep it out of another client's transaction.
      const release = this.txRelease ? undefined : await this.pool.acquire();
      try {
        for (const channel of channels) {
          const unlisten = this.unlisteners.get(channel);
          this.unlisteners.delete(channel);
          if (unlisten) await unlisten();
        }
      } finally {
        release?.();
      }
      return;
    }
    const channel = unquoteIdent(rawChannel);
    if (this.unlisteners.has(channel)) return;
    // pglite.listen runs its own LISTEN; keep it out of another client's transaction.
    const release = this.txRelease ? undefined : await this.pool.acquire();
    try {
      // pglite.listen quotes nothing itself, so hand it the identifier quoted.
      const unlisten = await this.pool.db.listen(quoteIdent(channel), (payload) => {
        if (!this.released) this.emit('notification', { channel, payload } satisfies Notification);
      });
      this.unlisteners.set(channel, () => unlisten());
    } finally {
      release?.();
    }
  }
}

/** BullMQ's command files start with `--` comments; look past them. */
function stripComments(sql: string): string {
  return sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n]*/g, ' ');
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function unquoteIdent(raw: string): string {
  if (raw.startsWith('"')) return raw.slice(1, -1).replaceAll('""', '"');
  return raw.toLowerCase();
}
