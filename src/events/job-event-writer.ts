import { FencedError } from '../errors.js';
import type { EventLog } from './event-log.js';
import type { EventType, NewEvent } from './types.js';

export interface JobEventWriterOptions {
  /**
   * Progress updates closer together than this are coalesced (latest wins), so a
   * task reporting 1,000 updates/s costs ~10 writes/s.
   * @defaultValue 100
   */
  progressIntervalMs?: number;
  /** The run's fence (from `EventLog.beginAttempt`): its writes are refused once a newer run begins. */
  fence?: number;
  /** Called once when the log refused a write because a newer run of the job has begun. */
  onFenced?: (error: FencedError) => void;
  onError?: (error: unknown) => void;
}

/**
 * Buffers one job's events on their way into the log: keeps their order, sends
 * whatever piled up during a write as one batch, and coalesces progress.
 * Status, partial, log, result and error events are never dropped.
 */
export class JobEventWriter {
  private readonly queue: NewEvent[] = [];
  private pendingProgress: NewEvent | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private lastProgressAt = 0;
  private writing: Promise<void> | undefined;
  private kickScheduled = false;
  private fenced: FencedError | undefined;
  private readonly progressIntervalMs: number;

  constructor(
    private readonly log: EventLog,
    readonly jobId: string,
    private readonly options: JobEventWriterOptions = {},
  ) {
    this.progressIntervalMs = options.progressIntervalMs ?? 100;
  }

  emit(type: EventType, data: unknown): void {
    // A replaced run has nothing more to say.
    if (this.fenced) return;
    if (type === 'progress') {
      this.pendingProgress = { type, data };
      const wait = this.lastProgressAt + this.progressIntervalMs - Date.now();
      if (wait <= 0) this.takeProgress();
      else this.progressTimer ??= setTimeout(() => this.takeProgress(), wait);
      return;
    }
    // A progress update that came first goes first.
    this.takeProgress();
    this.queue.push({ type, data });
    this.scheduleKick();
  }

  /** Resolves once every event emitted so far is stored. Throws if a write failed. */
  async flush(): Promise<void> {
    this.takeProgress();
    while (this.writing || this.queue.length > 0) {
      if (this.fenced) throw this.fenced;
      this.kick();
      await this.writing;
    }
    if (this.fenced) throw this.fenced;
  }

  /** Appends events now, after everything emitted before them. */
  async write(...events: NewEvent[]): Promise<void> {
    this.takeProgress();
    this.queue.push(...events);
    await this.flush();
  }

  private takeProgress(): void {
    if (this.progressTimer) {
      clearTimeout(this.progressTimer);
      this.progressTimer = undefined;
    }
    if (!this.pendingProgress) return;
    this.queue.push(this.pendingProgress);
    this.pendingProgress = undefined;
    this.lastProgressAt = Date.now();
    this.scheduleKick();
  }

  /**
   * Writes on the next turn of the event loop rather than now, so events emitted
   * together (a progress, then the result) go to the database as one batch.
   */
  private scheduleKick(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.kickQuietly();
    });
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.queue.length);
    this.writing = this.log.append(this.jobId, batch, this.options.fence).then(
      () => {
        this.writing = undefined;
        if (this.queue.length > 0) setImmediate(() => this.kickQuietly());
      },
      (error: unknown) => {
        this.writing = undefined;
        if (error instanceof FencedError) {
          this.fenced = error;
          this.queue.length = 0;
          this.pendingProgress = undefined;
          this.options.onFenced?.(error);
          throw error;
        }
        // Put the batch back in front so nothing is lost; flush() retries it.
        this.queue.unshift(...batch);
        this.options.onError?.(error);
        throw error;
      },
    );
    this.writing.catch(() => undefined);
  }

  private kickQuietly(): void {
    try {
      this.kick();
    } catch {
      // reported through onError
    }
  }
}
