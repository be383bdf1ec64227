import type { JobEvent } from '../events/types.js';

/**
 * Unsent bytes above which a transport counts as backed up. A few frames in
 * flight keep the socket busy; more would only add latency, so from here on
 * progress is coalesced and everything else waits its turn in a LiveBuffer.
 */
export const LIVE_SOFT_LIMIT_BYTES = 64 * 1024;

/** The transport a LiveBuffer writes to: an SSE response or a WebSocket. */
export interface LiveSink {
  /** Bytes the transport has accepted but the network has not taken yet. */
  bufferedBytes(): number;
  /** Hands one frame to the transport; `sent` runs once the network took it (or the transport closed). */
  write(frame: string, sent: () => void): void;
}

export interface LiveBufferOptions {
  sink: LiveSink;
  /** Unsent bytes, the transport's and those waiting here, that a stream may never pass. */
  hardLimitBytes: number;
  /** @defaultValue LIVE_SOFT_LIMIT_BYTES */
  softLimitBytes?: number;
  encode(event: JobEvent): string;
  /**
   * Called once, instead of holding what would pass the hard limit. The buffer
   * has dropped what waited and takes nothing more; the caller closes the
   * stream with `lastSent()` as its resume point.
   */
  onOverflow(): void;
  /** Called after each event is handed to the transport. */
  onSent?(event: JobEvent): void;
}

interface Waiting {
  frame: string;
  bytes: number;
  /** Absent for a message outside any job's log. */
  event?: JobEvent;
}

/** A stream that can hold its writes back and send them as one (net.Socket, http.ServerResponse). */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Writes handed to `stream` within one tick leave as one: the events a single
 * read of notifications brings (often several) reach each client in one
 * system call, not one per frame.
 */
export function corkedPerTick(stream: Corkable | undefined): () => void {
  let corked = false;
  return () => {
    if (corked || !stream) return;
    corked = true;
    stream.cork();
    process.nextTick(() => {
      corked = false;
      stream.uncork();
    });
  };
}

/**
 * Encodes each event once, however many clients watch it: a live event reaches
 * every watcher as the same object, so its frame is kept beside it (weakly,
 * gone with the event).
 */
export function encodedOnce(encode: (event: JobEvent) => string): (event: JobEvent) => string {
  const frames = new WeakMap<JobEvent, string>();
  return (event) => {
    let frame = frames.get(event);
    if (frame === undefined) frames.set(event, (frame = encode(event)));
    return frame;
  };
}

/** Past this many sent entries at the head of the queue, the array is compacted. */
const COMPACT_AFTER = 1024;

/**
 * The bounded buffer between a job's events and one slow client. While the
 * transport keeps up, events go straight through. Once it is backed up,
 * events wait here in order, and a `progress` that follows another waiting
 * `progress` of its job replaces it (latest wins: the client sees a seq jump
 * onto a progress event, never onto anything else). If waiting would pass the
 * hard limit, the buffer overflows rather than grow or drop data silently.
 */
export class LiveBuffer {
  private readonly softLimit: number;
  private queue: Array<Waiting | undefined> = [];
  private head = 0;
  private queuedBytes = 0;
  /** Each job's last waiting entry, while it waits. */
  private readonly tails = new Map<string, Waiting>();
  private readonly sentSeqs = new Map<string, number>();
  private drainWaiters: Array<() => void> = [];
  private pumping = false;
  private state: 'open' | 'overflowed' | 'closed' = 'open';

  constructor(private readonly options: LiveBufferOptions) {
    this.softLimit = options.softLimitBytes ?? LIVE_SOFT_LIMIT_BYTES;
  }

  /** Whatever comes next would have to wait. */
  get backedUp(): boolean {
    return this.head < this.queue.length || this.options.sink.bufferedBytes() > this.softLimit;
  }

  /** False once the buffer overflowed or was closed: it takes nothing more. */
  get open(): boolean {
    return this.state === 'open';
  }

  /** The seq of the job's last event handed to the transport. */
  lastSent(jobId: string): number | undefined {
    return this.sentSeqs.get(jobId);
  }

  /** Sends a job's event now, or queues it behind what waits (coalescing progress). */
  push(event: JobEvent): void {
    if (this.state !== 'open') return;
    const frame = this.options.encode(event);
    if (!this.backedUp) return this.send({ frame, bytes: 0, event });
    const bytes = Buffer.byteLength(frame);
    const tail = this.tails.get(event.jobId);
    if (event.type === 'progress' && tail?.event?.type === 'progress') {
      if (!this.fits(bytes - tail.bytes)) return this.overflow();
      this.queuedBytes += bytes - tail.bytes;
      tail.frame = frame;
      tail.bytes = bytes;
      tail.event = event;
      return;
    }
    if (!this.fits(bytes)) return this.overflow();
    const entry: Waiting = { frame, bytes, event };
    this.enqueue(entry);
    this.tails.set(event.jobId, entry);
  }

  /** Sends a message outside any job's log (a WebSocket error reply) in its turn; never coalesced. */
  pushMessage(frame: string): void {
    if (this.state !== 'open') return;
    if (!this.backedUp) return this.send({ frame, bytes: 0 });
    const bytes = Buffer.byteLength(frame);
    if (!this.fits(bytes)) return this.overflow();
    this.enqueue({ frame, bytes });
  }

  /** Forgets a job whose subscription ended: its waiting events are dropped. */
  forget(jobId: string): void {
    this.sentSeqs.delete(jobId);
    if (!this.tails.delete(jobId)) return;
    const kept: Waiting[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const entry = this.queue[i];
      if (entry && entry.event?.jobId !== jobId) kept.push(entry);
    }
    this.queue = kept;
    this.head = 0;
    this.queuedBytes = kept.reduce((sum, entry) => sum + entry.bytes, 0);
  }

  /** Resolves once nothing waits here and the transport is below the soft limit, or the buffer stopped. */
  drained(): Promise<void> {
    if (this.state !== 'open' || !this.backedUp) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stops the buffer: what waits is dropped, nothing more is sent. */
  close(): void {
    if (this.state === 'open') this.state = 'closed';
    this.clear();
  }

  private fits(extraBytes: number): boolean {
    return this.options.sink.bufferedBytes() + this.queuedBytes + extraBytes <= this.options.hardLimitBytes;
  }

  private enqueue(entry: Waiting): void {
    this.queue.push(entry);
    this.queuedBytes += entry.bytes;
  }

  private send(entry: Waiting): void {
    const { event } = entry;
    if (event) this.sentSeqs.set(event.jobId, event.seq);
    this.options.sink.write(entry.frame, () => this.pump());
    if (event) this.options.onSent?.(event);
  }

  /** Moves waiting entries to the transport while it is below the soft limit. */
  private pump(): void {
    if (this.pumping || this.state !== 'open') return;
    this.pumping = true;
    try {
      while (this.head < this.queue.length && this.options.sink.bufferedBytes() <= this.softLimit && this.state === 'open') {
        const entry = this.queue[this.head];
        this.queue[this.head++] = undefined;
        if (!entry) continue;
        this.queuedBytes -= entry.bytes;
        if (entry.event && this.tails.get(entry.event.jobId) === entry) this.tails.delete(entry.event.jobId);
        this.send(entry);
      }
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > COMPACT_AFTER && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    } finally {
      this.pumping = false;
    }
    if (this.state === 'open' && !this.backedUp) this.wakeDrainWaiters();
  }

  private overflow(): void {
    this.state = 'overflowed';
    this.clear();
    this.options.onOverflow();
  }

  private clear(): void {
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.tails.clear();
    this.wakeDrainWaiters();
  }

  private wakeDrainWaiters(): void {
    for (const wake of this.drainWaiters.splice(0)) wake();
  }
}
