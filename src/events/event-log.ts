import type { JobEvent, NewEvent } from './types.js';

/** An announcement that a job's log grew; carries the event when it was small enough. */
export interface EventNote {
  jobId: string;
  seq: number;
  event?: JobEvent;
}

/**
 * The port every event-log transport implements (PostgreSQL table + NOTIFY here;
 * Redis Streams later). Appends are ordered per job and give gap-free seqs.
 */
export interface EventLog {
  append(jobId: string, events: readonly NewEvent[]): Promise<JobEvent[]>;
  /** Events with seq > `after`, in order, at most `limit`. */
  read(jobId: string, after: number, limit?: number): Promise<JobEvent[]>;
  /** Live notes of appended events, from any process. Resolves once listening. */
  subscribe(listener: (note: EventNote) => void): Promise<() => Promise<void>>;
}
