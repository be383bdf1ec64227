// The fan-out bench's load: many clients following one job, in a process apart
// from the server (and from the harness, whose timers must stay punctual).
//
//   node --import tsx bench/lib/fanout-clients.ts '<FanoutClientsConfig as JSON>'
//
// Prints one `FANOUT <json>` line per report (FanoutReport): progress every
// 500 ms, `ready` once every client has had its first event (the replayed
// `queued`), then `result` when every client has the terminal event — or at
// once when `stop` is read on stdin. Exits when stdin closes.
import http from 'node:http';
import { createInterface } from 'node:readline';
import { followSse, followWs, type LiveEvent } from './live-clients.js';
import { Histogram } from './stats.js';

export interface FanoutClientsConfig {
  url: string;
  jobId: string;
  mode: 'sse' | 'ws';
  clients: number;
  /** Partials the job emits (i = 1…updates). */
  updates: number;
  /** Clients connecting at once (each holds its slot until its first event). */
  connectConcurrency: number;
}

export interface FanoutCounts {
  clients: number;
  /** Clients that received their first event. */
  ready: number;
  /** Clients that received the terminal event. */
  completed: number;
  failed: number;
  /** Distinct partials received, over all clients. */
  delivered: number;
  duplicated: number;
}

export type FanoutReport =
  | ({ type: 'progress' } & FanoutCounts)
  | ({ type: 'ready' } & FanoutCounts)
  | ({
      type: 'result';
      /** Partials a client did not receive though it received a later one: lost (events arrive in order). */
      missed: number;
      /** Partials after a client's last one received: not there yet when the run ended (all 0 when every client completed). */
      late: number;
      /** Connections (SSE requests or WS sockets) made: more than clients means some were resumed. */
      connections: number;
      errors: string[];
      /** Date.now() of the last partial received. */
      lastReceivedAt: number;
      /** Receive − emit time of each first receipt, ms. */
      latency: Array<[number, number]>;
    } & FanoutCounts);

const config = JSON.parse(process.argv[2] ?? '{}') as FanoutClientsConfig;
const stopping = new AbortController();
// Keep-alive, and as many sockets as clients: the default agent would share them out.
const agent = new http.Agent({ keepAlive: true, maxSockets: config.clients + 10 });
const latency = new Histogram();
const counts: FanoutCounts = { clients: config.clients, ready: 0, completed: 0, failed: 0, delivered: 0, duplicated: 0 };
const errors: string[] = [];
let connections = 0;
let lastReceivedAt = 0;
/** Each client's partials received (1 at index i), for the gaps at the end. */
const seenBy: Uint8Array[] = [];

const report = (message: FanoutReport): void => void process.stdout.write(`FANOUT ${JSON.stringify(message)}\n`);

/** One client: every partial's i marked once; its first event frees its connect slot. */
async function client(onFirst: () => void): Promise<void> {
  const seen = new Uint8Array(config.updates + 1);
  seenBy.push(seen);
  let first = true;
  const onEvent = (event: LiveEvent, receivedAt: number): void => {
    if (first) {
      first = false;
      counts.ready++;
      onFirst();
    }
    if (event.type !== 'partial') return;
    const { i, sentAt } = event.data as { i: number; sentAt: number };
    if (seen[i]) {
      counts.duplicated++;
      return;
    }
    seen[i] = 1;
    counts.delivered++;
    latency.add(receivedAt - sentAt);
    lastReceivedAt = Math.max(lastReceivedAt, receivedAt);
  };
  try {
    const options = { onEvent, signal: stopping.signal };
    const used = config.mode === 'sse' ? await followSse(config.url, config.jobId, { ...options, agent }) : await followWs(config.url, config.jobId, options);
    connections += used;
    if (!stopping.signal.aborted) counts.completed++;
  } catch (error) {
    counts.failed++;
    if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
    if (first) onFirst();
  }
}

/** Starts the clients, at most `connectConcurrency` of them connecting at any time. */
async function run(): Promise<void> {
  const running: Array<Promise<void>> = [];
  let free = config.connectConcurrency;
  let wake: (() => void) | undefined;
  for (let k = 0; k < config.clients && !stopping.signal.aborted; k++) {
    while (free === 0) await new Promise<void>((resolve) => (wake = resolve));
    free--;
    running.push(
      client(() => {
        free++;
        wake?.();
        wake = undefined;
      }),
    );
  }
  await Promise.all(running);
}

let sentReady = false;
const ticker = setInterval(() => {
  report({ type: 'progress', ...counts });
  if (!sentReady && counts.ready + counts.failed === config.clients) {
    sentReady = true;
    report({ type: 'ready', ...counts });
  }
}, 500);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'stop') stopping.abort();
});

const finish = (): void => {
  clearInterval(ticker);
  let missed = 0;
  let late = 0;
  for (const seen of seenBy) {
    const last = seen.lastIndexOf(1);
    const received = seen.reduce((n, v) => n + v, 0);
    late += config.updates - Math.max(0, last);
    missed += Math.max(0, last) - received;
  }
  // Clients that never started (a stop while connecting) received nothing: late, all of it.
  late += (config.clients - seenBy.length) * config.updates;
  report({ type: 'result', ...counts, missed, late, connections, errors, lastReceivedAt, latency: latency.toJSON() });
  agent.destroy();
};
// Alive until told (stdin closes, or SIGTERM), so the harness can still read this process's CPU time.
lines.on('close', () => process.exit(0));
stopping.signal.addEventListener('abort', () => setTimeout(finish, 200), { once: true });
void run().then(() => {
  if (!stopping.signal.aborted) finish();
});
