import { isDeepStrictEqual } from 'node:util';
import WebSocket from 'ws';
import { parseSse } from './taskyard.js';

// Clients that follow jobs' events live, as a user's app would, across API instances.

/** An event of a job's log, as a client compares it. */
export interface LogEvent {
  seq: number;
  type: string;
  data: unknown;
  /** When it was appended; SSE frames do not carry it. */
  at?: string;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (event: LogEvent): boolean => event.type === 'status' && TERMINAL.has((event.data as { status: string }).status);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Differences between what a client received and the job's log: gaps, duplicates, reorderings, changed events. */
export function compare(received: readonly LogEvent[], log: readonly LogEvent[]): { gaps: number; duplicates: number; misordered: number; changed: number } {
  const seen = new Map<number, number>();
  for (const event of received) seen.set(event.seq, (seen.get(event.seq) ?? 0) + 1);
  const bySeq = new Map(log.map((event) => [event.seq, event]));
  let misordered = 0;
  let changed = 0;
  received.forEach((event, i) => {
    if (i > 0 && event.seq <= received[i - 1]!.seq) misordered++;
    const logged = bySeq.get(event.seq);
    if (!logged || !isDeepStrictEqual(logged, event)) changed++;
  });
  return {
    gaps: log.filter((event) => !seen.has(event.seq)).length,
    duplicates: [...seen.values()].reduce((sum, n) => sum + n - 1, 0),
    misordered,
    changed,
  };
}

/**
 * Follows one job's SSE stream like a browser's EventSource, but across
 * instances: when a connection drops it reconnects to the next URL, with
 * Last-Event-ID = the last seq received. Keeps every event as received (no
 * client-side de-duplication), so gaps and repeats from the servers show.
 */
export class SseFollower {
  readonly received: LogEvent[] = [];
  /** Which instance served which events: one entry per connection that delivered something. */
  readonly segments: Array<{ url: string; first: number; last: number }> = [];
  readonly finished: Promise<void>;
  private next = 0;

  constructor(
    readonly jobId: string,
    private readonly urls: readonly string[],
    timeoutMs: number,
  ) {
    this.finished = this.run(Date.now() + timeoutMs);
  }

  get last(): number {
    return this.received[this.received.length - 1]?.seq ?? 0;
  }

  get done(): boolean {
    const last = this.received[this.received.length - 1];
    return last !== undefined && isTerminal(last);
  }

  private async run(deadline: number): Promise<void> {
    let delay = 50;
    while (!this.done) {
      if (Date.now() > deadline) throw new Error(`SSE follower of ${this.jobId} did not see the end (last seq ${this.last}, segments ${JSON.stringify(this.segments)})`);
      const url = this.urls[this.next]!;
      const before = this.received.length;
      try {
        await this.connect(url);
      } catch {
        // The instance died under us, or refused the connection: try the next one.
      }
      if (this.done) return;
      if (this.received.length > before) delay = 50;
      this.next = (this.next + 1) % this.urls.length;
      await sleep(delay);
      delay = Math.min(delay * 2, 500);
    }
  }

  private async connect(url: string): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.last > 0) headers['last-event-id'] = String(this.last);
    const res = await fetch(`${url}/v1/jobs/${this.jobId}/events`, { headers });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      throw new Error(`SSE answered ${res.status}`);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let pending = '';
    let segment: { url: string; first: number; last: number } | undefined;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        pending += decoder.decode(value, { stream: true });
        // Only whole frames count: one cut off by a dying server is not an event.
        const end = pending.lastIndexOf('\n\n');
        if (end < 0) continue;
        const frames = parseSse(pending.slice(0, end + 2));
        pending = pending.slice(end + 2);
        for (const frame of frames) {
          const event = { seq: frame.id, type: frame.event === 'job-error' ? 'error' : frame.event, data: frame.data };
          this.received.push(event);
          if (!segment) this.segments.push((segment = { url, first: event.seq, last: event.seq }));
          segment.last = event.seq;
        }
        if (this.done) return;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
}

/** One WebSocket on one instance, subscribed to many jobs; keeps every event received, per job. */
export class WsSubscriber {
  readonly received = new Map<string, LogEvent[]>();
  readonly problems: string[] = [];
  private readonly ended = new Set<string>();
  private closing = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as { jobId?: string; seq?: number; type?: string; data?: unknown; at?: string; error?: unknown };
      if (message.error !== undefined || message.type === 'overflow' || typeof message.jobId !== 'string' || typeof message.seq !== 'number') {
        this.problems.push(JSON.stringify(message).slice(0, 300));
        return;
      }
      const event = { seq: message.seq, type: message.type!, data: message.data, at: message.at! };
      const events = this.received.get(message.jobId);
      if (!events) return void this.problems.push(`an event of ${message.jobId}, to which this socket did not subscribe`);
      events.push(event);
      if (isTerminal(event)) this.ended.add(message.jobId);
    });
    ws.on('close', (code, reason) => {
      if (!this.closing) this.problems.push(`closed ${code} ${reason.toString()}`);
    });
  }

  static open(baseUrl: string): Promise<WsSubscriber> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/ws`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsSubscriber(ws)));
      ws.once('error', reject);
    });
  }

  subscribe(jobId: string): void {
    this.received.set(jobId, []);
    this.ws.send(JSON.stringify({ subscribe: jobId }));
  }

  allEnded(): boolean {
    if (this.problems.length > 0) throw new Error(`subscriber failed: ${this.problems.slice(0, 3).join('; ')}`);
    return this.ended.size === this.received.size;
  }

  state(): string {
    return `${this.ended.size}/${this.received.size} ended`;
  }

  close(): void {
    this.closing = true;
    this.ws.close();
  }
}
