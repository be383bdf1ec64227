import type { JobStore } from '../history/jobs.js';
import type { EventLog, EventNote } from './event-log.js';
import type { EventType, JobEvent, NewEvent } from './types.js';

interface NotePayload {
  j: string;
  s: number;
  t?: EventType;
  d?: unknown;
  a?: string;
}

/**
 * The event log on PostgreSQL (or PGlite): the history table is the log itself,
 * `append_events` projects each append onto the job row in the same statement,
 * and NOTIFY announces it to every process.
 */
export class PgEventLog implements EventLog {
  constructor(private readonly store: JobStore) {}

  append(jobId: string, events: readonly NewEvent[]): Promise<JobEvent[]> {
    return this.store.append(jobId, events);
  }

  read(jobId: string, after: number, limit?: number): Promise<JobEvent[]> {
    return this.store.events(jobId, after, limit);
  }

  subscribe(listener: (note: EventNote) => void): Promise<() => Promise<void>> {
    return this.store.db.listen(this.store.eventsChannel, (payload) => {
      let note: NotePayload;
      try {
        note = JSON.parse(payload) as NotePayload;
      } catch {
        return;
      }
      if (typeof note.j !== 'string' || typeof note.s !== 'number') return;
      listener(
        note.t === undefined
          ? { jobId: note.j, seq: note.s }
          : {
              jobId: note.j,
              seq: note.s,
              event: { jobId: note.j, seq: note.s, type: note.t, data: note.d ?? null, at: new Date(note.a ?? Date.now()).toISOString() },
            },
      );
    });
  }
}
