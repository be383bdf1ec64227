import type { JobStore } from '../history/jobs.js';
import { parseNote, type EventLog, type EventNote } from './event-log.js';
import type { JobEvent, NewEvent } from './types.js';

/**
 * The event log on PostgreSQL (or PGlite): the history table is the log itself,
 * `append_events` projects each append onto the job row in the same statement,
 * and NOTIFY announces it to every process.
 */
export class PgEventLog implements EventLog {
  /** The history table is the log. */
  readonly aheadOfHistory = false;

  constructor(private readonly store: JobStore) {}

  append(jobId: string, events: readonly NewEvent[], fence?: number): Promise<JobEvent[]> {
    return this.store.append(jobId, events, fence);
  }

  beginAttempt(jobId: string): Promise<number | undefined> {
    return this.store.beginAttempt(jobId);
  }

  read(jobId: string, after: number, limit?: number): Promise<JobEvent[]> {
    return this.store.events(jobId, after, limit);
  }

  subscribe(listener: (note: EventNote) => void): Promise<() => Promise<void>> {
    return this.store.db.listen(this.store.eventsChannel, (payload) => {
      const note = parseNote(payload);
      if (note) listener(note);
    });
  }
}
