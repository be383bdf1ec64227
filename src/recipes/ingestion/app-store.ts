// The `apps` and `app_events` tables: registered apps, the events each
// accepts with their JSON Schemas, and their notify rules.
import type { Database } from '../../history/database.js';
import { schemaIdent } from '../../history/database.js';
import type { Logger } from '../../logger.js';
import { NotifyRule, type AppDefinition } from './types.js';

/** A raw row of `apps`, with its events' schemas gathered into one object. */
interface AppRow {
  id: string;
  name: string;
  notify: unknown;
  events: Record<string, Record<string, unknown>>;
  created_at: Date | string;
  updated_at: Date | string;
}

/** An app as the recipe uses it and the API shows it. */
export interface App {
  id: string;
  name: string;
  /** Event name → the JSON Schema its payload must match. */
  events: Record<string, Record<string, unknown>>;
  notify: NotifyRule | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

export class AppStore {
  private readonly s: string;

  constructor(
    private readonly db: Database,
    schema: string,
    private readonly logger: Logger,
  ) {
    this.s = schemaIdent(schema);
  }

  private select(where: string): string {
    return `SELECT a.id, a.name, a.notify, a.created_at, a.updated_at,
                   coalesce((SELECT jsonb_object_agg(e.event_name, e.schema) FROM ${this.s}.app_events e WHERE e.app_id = a.id), '{}'::jsonb) AS events
            FROM ${this.s}.apps a ${where}`;
  }

  async get(id: string): Promise<App | undefined> {
    const { rows } = await this.db.query<AppRow>(this.select('WHERE a.id = $1'), [id]);
    return rows[0] && this.toApp(rows[0]);
  }

  async list(): Promise<App[]> {
    const { rows } = await this.db.query<AppRow>(this.select('ORDER BY a.id'));
    return rows.map((row) => this.toApp(row));
  }

  /** The app's notify rule alone (the worker's question for every stored event). */
  async notifyRule(id: string): Promise<NotifyRule | null> {
    const { rows } = await this.db.query<{ notify: unknown }>(`SELECT notify FROM ${this.s}.apps WHERE id = $1`, [id]);
    return this.parseNotify(id, rows[0]?.notify ?? null);
  }

  /** Creates the app, or replaces its name, events and notify rule; `created` says which. */
  async put(app: AppDefinition): Promise<{ app: App; created: boolean }> {
    const created = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ created: boolean }>(
        `INSERT INTO ${this.s}.apps (id, name, notify) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, notify = EXCLUDED.notify, updated_at = now()
         RETURNING created_at = updated_at AS created`,
        [app.id, app.name ?? app.id, app.notify ? JSON.stringify(app.notify) : null],
      );
      await tx.query(`DELETE FROM ${this.s}.app_events WHERE app_id = $1`, [app.id]);
      await tx.query(
        `INSERT INTO ${this.s}.app_events (app_id, event_name, schema)
         SELECT $1, key, value FROM jsonb_each($2::jsonb)`,
        [app.id, JSON.stringify(app.events)],
      );
      return rows[0]?.created ?? false;
    });
    const stored = await this.get(app.id);
    if (!stored) throw new Error(`app "${app.id}" vanished right after it was stored`);
    return { app: stored, created };
  }

  private toApp(row: AppRow): App {
    return {
      id: row.id,
      name: row.name,
      events: row.events,
      notify: this.parseNotify(row.id, row.notify),
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    };
  }

  /** What the database holds is input too: a rule that does not parse is ignored, loudly. */
  private parseNotify(appId: string, value: unknown): NotifyRule | null {
    if (value === null || value === undefined) return null;
    const parsed = NotifyRule.safeParse(value);
    if (parsed.success) return parsed.data;
    this.logger.warn({ appId, issues: parsed.error.issues.length }, 'ingestion: an app has a malformed notify rule; ignored');
    return null;
  }
}
