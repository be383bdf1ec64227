// The `events` table (see migrations/000001_ingestion.sql): storing with
// dedup, listing, and counting per validation status.
import type { Database } from '../../history/database.js';
import { schemaIdent } from '../../history/database.js';
import type { AppCounts, EventStatus, StoreEventOutcome, StoreEventRequest, ValidationIssue } from './types.js';

/** A raw row of `events`. */
interface EventRow {
  id: string;
  event_name: string;
  payload: Record<string, unknown>;
  payload_hash: string;
  status: EventStatus;
  errors: ValidationIssue[] | null;
  job_id: string | null;
  received_at: Date | string;
  stored_at: Date | string;
}

/** A stored event as the API shows it. */
export interface StoredEvent {
  id: string;
  eventName: string;
  payload: Record<string, unknown>;
  payloadHash: string;
  status: EventStatus;
  errors: ValidationIssue[] | null;
  jobId: string | null;
  receivedAt: string;
  storedAt: string;
}

/** First key of the two-key advisory locks this store takes (a key space of its own). */
const DEDUP_LOCK_CLASS = 0x696e67; // "ing"

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

export class EventStore {
  private readonly s: string;

  constructor(
    private readonly db: Database,
    schema: string,
  ) {
    this.s = schemaIdent(schema);
  }

  /**
   * Stores the event unless the same payload (hash) for the same app and event
   * was received within `windowMs` of it. Concurrent jobs for one key queue on
   * a transaction-scoped advisory lock, so exactly one of them stores it. A
   * retried job finds the row it stored itself and reports it stored again.
   */
  async store(event: StoreEventRequest, windowMs: number): Promise<StoreEventOutcome> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [DEDUP_LOCK_CLASS, `${event.appId}\n${event.eventName}\n${event.payloadHash}`]);
      const { rows } = await tx.query<{ id: string; job_id: string | null }>(
        `SELECT id, job_id FROM ${this.s}.events
         WHERE app_id = $1 AND event_name = $2 AND payload_hash = $3
           AND (job_id = $4 OR received_at > $5::timestamptz - $6::double precision * interval '1 millisecond')
         ORDER BY coalesce(job_id = $4, false) DESC, received_at DESC
         LIMIT 1`,
        [event.appId, event.eventName, event.payloadHash, event.jobId, event.receivedAt, windowMs],
      );
      const earlier = rows[0];
      if (earlier) return { stored: earlier.job_id === event.jobId, eventId: earlier.id };
      const inserted = await tx.query<{ id: string }>(
        `INSERT INTO ${this.s}.events (app_id, event_name, payload, payload_hash, status, errors, job_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id`,
        [event.appId, event.eventName, JSON.stringify(event.payload), event.payloadHash, event.status, event.errors && JSON.stringify(event.errors), event.jobId, event.receivedAt],
      );
      return { stored: true, eventId: inserted.rows[0]!.id };
    });
  }

  /** An app's stored events, newest first. */
  async list(appId: string, options: { limit: number; status?: EventStatus | undefined }): Promise<StoredEvent[]> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT id, event_name, payload, payload_hash, status, errors, job_id, received_at, stored_at
       FROM ${this.s}.events
       WHERE app_id = $1 AND ($2::text IS NULL OR status = $2)
       ORDER BY received_at DESC, id
       LIMIT $3`,
      [appId, options.status ?? null, options.limit],
    );
    return rows.map((row) => ({
      id: row.id,
      eventName: row.event_name,
      payload: row.payload,
      payloadHash: row.payload_hash,
      status: row.status,
      errors: row.errors,
      jobId: row.job_id,
      receivedAt: iso(row.received_at),
      storedAt: iso(row.stored_at),
    }));
  }

  /** Events received in the last `hours` per status, for one app or (null) every app; apps without events count zero. */
  async countByStatus(appId: string | null, hours: number): Promise<AppCounts[]> {
    const { rows } = await this.db.query<{ app_id: string; valid: number | string; invalid: number | string }>(
      `SELECT a.id AS app_id,
              count(*) FILTER (WHERE e.status = 'valid') AS valid,
              count(*) FILTER (WHERE e.status = 'invalid') AS invalid
       FROM ${this.s}.apps a
       LEFT JOIN ${this.s}.events e ON e.app_id = a.id AND e.received_at > now() - $2::integer * interval '1 hour'
       WHERE $1::text IS NULL OR a.id = $1
       GROUP BY a.id
       ORDER BY a.id`,
      [appId, hours],
    );
    return rows.map((row) => {
      const counts = { valid: Number(row.valid), invalid: Number(row.invalid) };
      return { appId: row.app_id, counts, total: counts.valid + counts.invalid };
    });
  }
}
