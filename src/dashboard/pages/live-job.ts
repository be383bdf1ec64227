// What a job's event stream has told so far, kept bounded for chatty jobs: the last
// KEEP partials and log lines are held (with counts of all), π-like digits as one string.
import type { JobErrorInfo, JobProgress } from '../api/types';

export const KEEP = 500;

export interface StatusEntry {
  seq: number;
  status: string;
  attempt: number | undefined;
  delayMs: number | undefined;
  reason: string | undefined;
  /** When the dashboard received it; replayed marks history sent right after connecting. */
  receivedAt: number;
  replayed: boolean;
}

export interface LogLine {
  seq: number;
  level: string;
  message: string;
}

export interface LiveJob {
  status: string | undefined;
  progress: JobProgress | undefined;
  statuses: StatusEntry[];
  partials: { seq: number; data: unknown }[];
  partialCount: number;
  /** The digits of `{ position, digit }` partials in position order, or null once a chunk is not one. */
  digits: string | null;
  logs: LogLine[];
  logCount: number;
  result: { value: unknown } | undefined;
  error: JobErrorInfo | undefined;
}

export const emptyLiveJob = (): LiveJob => ({
  status: undefined,
  progress: undefined,
  statuses: [],
  partials: [],
  partialCount: 0,
  digits: '',
  logs: [],
  logCount: 0,
  result: undefined,
  error: undefined,
});

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function digitOf(data: unknown): { position: number; digit: string } | undefined {
  if (!isRecord(data) || Object.keys(data).length !== 2) return undefined;
  const { position, digit } = data;
  if (typeof position !== 'number' || !Number.isInteger(position) || position < 1) return undefined;
  if (typeof digit !== 'number' && typeof digit !== 'string') return undefined;
  return { position, digit: String(digit) };
}

/** Mutable accumulator the stream writes into; `snapshot()` copies it for rendering. */
export class LiveJobBuffer {
  private state = emptyLiveJob();
  private digitList: string[] = [];
  private digitsDirty = false;

  /** `openedAt`: when the stream connected (-Infinity: all it sends is history). */
  constructor(private readonly openedAt: () => number) {}

  add(type: string, seq: number, data: unknown): void {
    const s = this.state;
    switch (type) {
      case 'status': {
        const status = isRecord(data) ? str(data['status']) : undefined;
        if (!status || !isRecord(data)) return;
        s.status = status;
        const receivedAt = Date.now();
        s.statuses.push({
          seq,
          status,
          attempt: num(data['attempt']),
          delayMs: num(data['delayMs']),
          reason: str(data['reason']),
          receivedAt,
          replayed: receivedAt - this.openedAt() < 1000 || this.openedAt() === Number.NEGATIVE_INFINITY,
        });
        return;
      }
      case 'progress':
        if (isRecord(data)) s.progress = data as JobProgress;
        return;
      case 'partial': {
        s.partialCount++;
        s.partials.push({ seq, data });
        if (s.partials.length > KEEP * 2) s.partials = s.partials.slice(-KEEP);
        const digit = s.digits === null ? undefined : digitOf(data);
        if (digit) {
          this.digitList[digit.position - 1] = digit.digit;
          this.digitsDirty = true;
        } else s.digits = null;
        return;
      }
      case 'log': {
        s.logCount++;
        const line = isRecord(data) ? data : { message: data };
        s.logs.push({ seq, level: str(line['level']) ?? 'info', message: str(line['message']) ?? JSON.stringify(line['message']) });
        if (s.logs.length > KEEP * 2) s.logs = s.logs.slice(-KEEP);
        return;
      }
      case 'result':
        s.result = { value: data };
        return;
      case 'job-error':
        if (isRecord(data)) s.error = { ...(data as Partial<JobErrorInfo>), message: str(data['message']) ?? 'Job failed' };
        return;
    }
  }

  snapshot(): LiveJob {
    const s = this.state;
    if (this.digitsDirty && s.digits !== null) {
      s.digits = this.digitList.join('');
      this.digitsDirty = false;
    }
    return { ...s, statuses: [...s.statuses], partials: s.partials.slice(-KEEP), logs: s.logs.slice(-KEEP) };
  }
}
