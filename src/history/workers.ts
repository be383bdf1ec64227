import { listed, type ListedWorker, type WorkerDirectory, type WorkerInfo } from '../events/worker-directory.js';
import type { Database } from './database.js';
import { schemaIdent } from './database.js';

/** The workers' heartbeats in history's `workers` table (PostgreSQL and PGlite). */
export class PgWorkerDirectory implements WorkerDirectory {
  private readonly s: string;

  constructor(
    private readonly db: Database,
    schema: string,
  ) {
    this.s = schemaIdent(schema);
  }

  async beat(info: WorkerInfo): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.s}.workers (id, info, heartbeat_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET info = excluded.info, heartbeat_at = excluded.heartbeat_at`,
      [info.id, JSON.stringify(info), info.heartbeatAt],
    );
  }

  async remove(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.s}.workers WHERE id = $1`, [id]);
  }

  async list(now = Date.now()): Promise<ListedWorker[]> {
    const { rows } = await this.db.query<{ info: WorkerInfo }>(`SELECT info FROM ${this.s}.workers`);
    const { workers, forget } = listed(
      rows.map((row) => row.info),
      now,
    );
    if (forget.length > 0) await this.db.query(`DELETE FROM ${this.s}.workers WHERE id = ANY($1)`, [forget]);
    return workers;
  }
}
