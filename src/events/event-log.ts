import type { EventType, JobEvent, NewEvent } from './types.js';

/** An announcement that a job's log grew; carries the event when it was small enough. */
export interface EventNote {
  jobId: string;
  seq: number;
  event?: JobEvent;
}

/**
 * The port every event-log transport implements: a PostgreSQL table + NOTIFY
 * (PgEventLog) or Redis Streams (RedisEventLog). Appends are ordered per job and
 * give gap-free seqs.
 */
export interface EventLog {
  /**
   * True when history is written after the log (Redis: by the projector), so a
   * job's row may be a moment behind its log.
   */
  readonly aheadOfHistory: boolean;
  /**
   * Appends events after the job's last one. With `fence` (a run's token from
   * `beginAttempt`), throws FencedError when a newer run of the job has begun.
   */
  append(jobId: string, events: readonly NewEvent[], fence?: number): Promise<JobEvent[]>;
  /**
   * Starts a run: takes the job's next fence (1, 2, … — also the run's attempt
   * number) and appends `status: active` with it. Undefined for an unknown job.
   */
  beginAttempt(jobId: string): Promise<number | undefined>;
  /** Events with seq > `after`, in order, at most `limit`. */
  read(jobId: string, after: number, limit?: number): Promise<JobEvent[]>;
  /**
   * Live notes of appended events, from any process. Resolves once listening.
   * `onResync` is called when notes may have been missed (a reconnect).
   */
  subscribe(listener: (note: EventNote) => void, onResync?: () => void): Promise<() => Promise<void>>;
}

/**
 * Parses a note as both transports publish it (NOTIFY payload or Redis message):
 * `{ j: jobId, s: seq, t?: type, d?: data, a?: time }`; without `t`, the event
 * was too big to carry and must be read from the log.
 */
export function parseNote(payload: string): EventNote | undefined {
  let note: { j?: unknown; s?: unknown; t?: EventType; d?: unknown; a?: string };
  try {
    note = JSON.parse(payload) as typeof note;
  } catch {
    return undefined;
  }
  if (typeof note.j !== 'string' || typeof note.s !== 'number') return undefined;
  const { j: jobId, s: seq } = note;
  if (note.t === undefined) return { jobId, seq };
  return { jobId, seq, event: { jobId, seq, type: note.t, data: note.d ?? null, at: new Date(note.a ?? Date.now()).toISOString() } };
}
