/** The kinds of events in a job's log. */
export const EVENT_TYPES = ['status', 'progress', 'partial', 'log', 'result', 'error'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const JOB_STATUSES = ['queued', 'active', 'retrying', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

export function isTerminalStatus(status: string): boolean {
  return TERMINAL_STATUSES.has(status as JobStatus);
}

/** One entry of a job's ordered event log. `seq` starts at 1 and has no gaps. */
export interface JobEvent {
  jobId: string;
  seq: number;
  type: EventType;
  data: unknown;
  /** ISO timestamp of when the event was stored. */
  at: string;
}

/** An event not yet given a seq. */
export interface NewEvent {
  type: EventType;
  data: unknown;
}

/** `data` of a `status` event. */
export interface StatusData {
  status: JobStatus;
  attempt?: number;
  reason?: string;
  /** For `retrying`: the delay before the next attempt. */
  delayMs?: number;
}

export function isTerminalEvent(event: Pick<JobEvent, 'type' | 'data'>): boolean {
  return event.type === 'status' && isTerminalStatus((event.data as StatusData | null)?.status ?? '');
}
