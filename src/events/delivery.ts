import type { EventLog, EventNote } from './event-log.js';
import { isTerminalEvent, type JobEvent } from './types.js';

export interface Subscriber {
  /** Receives events in seq order, each once. */
  onEvent(event: JobEvent): void;
  /** Called after the terminal event, or with an error when reading failed. */
  onEnd?(error?: unknown): void;
}

interface Subscription {
  subscriber: Subscriber;
  cursor: number;
  /** The highest seq a note announced: above the cursor, the log owes this subscriber events. */
  announced: number;
  retry?: NodeJS.Timeout | undefined;
  reading: boolean;
  again: boolean;
  closed: boolean;
}

/**
 * Fans a job's events out to the clients watching it (SSE, WebSocket). Each
 * subscription has its own cursor: it first reads what it missed from the log,
 * then takes live notes; a note that does not follow its cursor (a gap, or a
 * note without the event) makes it read from the log again. So a client sees
 * every event once, in order, whatever the timing.
 */
/**
 * When a read came back short of what notes announced (a log that replays from
 * history may lag its live stream by a moment), read again after this long.
 */
const RETRY_SHORT_READ_MS = 200;

export class Delivery {
  private readonly watchers = new Map<string, Set<Subscription>>();
  private unsubscribe: (() => Promise<void>) | undefined;

  /** `onLiveEvent` runs for each live event handed to a watcher (not for replays): for the delivery-latency metric. */
  constructor(
    private readonly log: EventLog,
    private readonly onLiveEvent?: (event: JobEvent) => void,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe ??= await this.log.subscribe(
      (note) => this.onNote(note),
      () => this.resync(),
    );
  }

  async stop(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    for (const subs of this.watchers.values()) for (const sub of subs) this.close(sub);
    this.watchers.clear();
    await unsubscribe?.();
  }

  get watching(): number {
    let n = 0;
    for (const subs of this.watchers.values()) n += subs.size;
    return n;
  }

  /** Starts delivering events with seq > `after`. Returns the function that stops it. */
  watch(jobId: string, after: number, subscriber: Subscriber): () => void {
    const sub: Subscription = { subscriber, cursor: after, announced: after, reading: false, again: false, closed: false };
    let subs = this.watchers.get(jobId);
    if (!subs) {
      subs = new Set();
      this.watchers.set(jobId, subs);
    }
    subs.add(sub);
    void this.catchUp(jobId, sub);
    return () => this.drop(jobId, sub);
  }

  /** Notes may have been missed (the transport reconnected): every watcher reads the log again. */
  private resync(): void {
    for (const [jobId, subs] of this.watchers) for (const sub of subs) void this.catchUp(jobId, sub);
  }

  private close(sub: Subscription): void {
    sub.closed = true;
    clearTimeout(sub.retry);
  }

  private drop(jobId: string, sub: Subscription): void {
    this.close(sub);
    const subs = this.watchers.get(jobId);
    subs?.delete(sub);
    if (subs?.size === 0) this.watchers.delete(jobId);
  }

  private onNote(note: EventNote): void {
    const subs = this.watchers.get(note.jobId);
    if (!subs) return;
    for (const sub of subs) {
      if (note.seq <= sub.cursor) continue;
      sub.announced = Math.max(sub.announced, note.seq);
      if (note.event && note.seq === sub.cursor + 1 && !sub.reading) {
        this.deliver(note.jobId, sub, note.event);
        this.onLiveEvent?.(note.event);
      } else void this.catchUp(note.jobId, sub);
    }
  }

  private deliver(jobId: string, sub: Subscription, event: JobEvent): void {
    if (sub.closed || event.seq !== sub.cursor + 1) return;
    sub.cursor = event.seq;
    try {
      sub.subscriber.onEvent(event);
    } catch {
      // A subscriber's failure is its own; it must not stop delivery to others.
    }
    if (isTerminalEvent(event)) {
      this.drop(jobId, sub);
      sub.subscriber.onEnd?.();
    }
  }

  private async catchUp(jobId: string, sub: Subscription): Promise<void> {
    if (sub.reading) {
      sub.again = true;
      return;
    }
    sub.reading = true;
    try {
      do {
        sub.again = false;
        for (;;) {
          const events = await this.log.read(jobId, sub.cursor, 500);
          for (const event of events) this.deliver(jobId, sub, event);
          if (events.length < 500 || sub.closed) break;
        }
      } while (sub.again && !sub.closed);
      if (!sub.closed && sub.cursor < sub.announced) {
        clearTimeout(sub.retry);
        sub.retry = setTimeout(() => void this.catchUp(jobId, sub), RETRY_SHORT_READ_MS);
      }
    } catch (error) {
      if (!sub.closed) {
        this.drop(jobId, sub);
        sub.subscriber.onEnd?.(error);
      }
    } finally {
      sub.reading = false;
    }
  }
}
