// Follows many jobs to their end over Taskyard's WebSocket (`GET /v1/ws`, one
// socket for many jobs, docs/api.md), as a client app would, and notes when each
// job's terminal `status` event reached the client.
import { once } from 'node:events';
import WebSocket from 'ws';

/** The server refuses more subscriptions than this per socket (src/api/routes/ws.ts); stay under it. */
const PER_SOCKET = 900;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

interface Followed {
  /** performance.now() when the 202 arrived. */
  acceptedAt: number;
  /** performance.now() when the terminal status arrived. */
  endedAt?: number;
  status?: string;
  socket: Socket;
}

interface Socket {
  ws: WebSocket;
  opened: Promise<unknown>;
  /** Jobs subscribed on it and not ended yet (the server ends a subscription after its terminal event). */
  open: number;
}

export interface FollowOutcome {
  followed: number;
  completed: number;
  /** Ended `failed` or `cancelled`. */
  failed: number;
  /** No terminal event within the wait. */
  lost: number;
  /** 202 → `completed` event at the client, ms, one per completed job. */
  latencyMs: number[];
  /** Error and overflow messages, socket closes: anything that should not happen. */
  problems: string[];
}

export class CompletionFollower {
  private readonly sockets: Socket[] = [];
  private readonly jobs = new Map<string, Followed>();
  private readonly problems: string[] = [];
  private pending = 0;
  private idle: (() => void) | undefined;
  private closing = false;

  constructor(private readonly baseUrl: string) {}

  private async socket(): Promise<Socket> {
    const free = this.sockets.find((socket) => socket.open < PER_SOCKET);
    if (free) {
      await free.opened;
      return free;
    }
    const ws = new WebSocket(`${this.baseUrl.replace(/^http/, 'ws')}/v1/ws`);
    const socket: Socket = { ws, opened: once(ws, 'open'), open: 0 };
    // Listed before it opens, so that callers meanwhile share it instead of each opening one.
    this.sockets.push(socket);
    ws.on('message', (raw) => this.message(raw.toString()));
    ws.on('close', (code, reason) => {
      if (!this.closing) this.problems.push(`socket closed ${code} ${reason.toString()}`);
    });
    ws.on('error', (error) => this.problems.push(`socket error ${error.message}`));
    await socket.opened;
    return socket;
  }

  /** Subscribes to `jobId`'s events from the start (so none is missed however soon it ran). */
  async follow(jobId: string, acceptedAt: number): Promise<void> {
    this.pending++;
    const socket = await this.socket();
    socket.open++;
    this.jobs.set(jobId, { acceptedAt, socket });
    socket.ws.send(JSON.stringify({ subscribe: jobId, after: 0 }));
  }

  private message(text: string): void {
    const message = JSON.parse(text) as { jobId?: string; type?: string; data?: { status?: string }; error?: unknown };
    if (message.error !== undefined || message.type === 'overflow') {
      this.problems.push(text.slice(0, 300));
      return;
    }
    if (message.type !== 'status' || !TERMINAL.has(message.data?.status ?? '')) return;
    const job = message.jobId === undefined ? undefined : this.jobs.get(message.jobId);
    if (!job || job.endedAt !== undefined) return;
    job.endedAt = performance.now();
    job.status = message.data!.status!;
    job.socket.open--;
    this.pending--;
    if (this.pending === 0) this.idle?.();
  }

  /** Waits until every job followed so far has ended, or `timeoutMs` passed; then says what happened to each. */
  async settle(timeoutMs: number): Promise<FollowOutcome> {
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.idle = undefined;
    }
    const outcome: FollowOutcome = { followed: this.jobs.size, completed: 0, failed: 0, lost: 0, latencyMs: [], problems: [...this.problems] };
    for (const job of this.jobs.values()) {
      if (job.endedAt === undefined) outcome.lost++;
      else if (job.status === 'completed') {
        outcome.completed++;
        outcome.latencyMs.push(job.endedAt - job.acceptedAt);
      } else outcome.failed++;
    }
    return outcome;
  }

  /** Forgets the jobs followed so far (their sockets stay open), for the next phase. */
  reset(): void {
    this.jobs.clear();
    this.problems.length = 0;
    this.pending = 0;
    for (const socket of this.sockets) socket.open = 0;
  }

  close(): void {
    this.closing = true;
    for (const socket of this.sockets) socket.ws.close();
  }
}
