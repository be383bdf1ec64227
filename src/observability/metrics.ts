import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The job endings a worker counts (`retried`: failed, with an attempt left). */
export type JobOutcome = 'completed' | 'failed' | 'retried' | 'cancelled';

export type Transport = 'sse' | 'ws';

/** Per-queue state read at scrape time, from the shared engine and history. */
export interface QueueStateSource {
  queues(): readonly string[];
  state(queue: string): Promise<{ waiting: number; active: number; delayed: number; paused: boolean }>;
  /** When the longest-waiting job that could run now was enqueued; undefined when none waits. */
  oldestWaiting(queue: string): Promise<Date | undefined>;
}

/** Seconds, from 1 ms to 10 minutes: job run and queue times. */
const JOB_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Seconds, from 0.5 ms to 5 s: live delivery and HTTP answers. */
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Taskyard's Prometheus metrics, in a registry of its own (several instances
 * in one process do not collide). Counters of job endings and run times come
 * from the process that ran the job (a worker, or `taskyard start`); queue
 * gauges are read from the shared storage at scrape time, so every API
 * instance reports the same values (aggregate them with max, not sum).
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly enqueued = new Counter({
    name: 'taskyard_jobs_enqueued_total',
    help: 'Jobs accepted (stored and handed to the queue), by task and queue',
    labelNames: ['task', 'queue'] as const,
    registers: [this.registry],
  });

  private readonly ended = new Counter({
    name: 'taskyard_jobs_total',
    help: 'Job runs that ended in this process, by task, queue and outcome (completed, failed, retried, cancelled)',
    labelNames: ['task', 'queue', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly runSeconds = new Histogram({
    name: 'taskyard_job_run_seconds',
    help: 'How long a job run took, from its start on a worker to its ending',
    labelNames: ['task', 'queue', 'outcome'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  private readonly waitSeconds = new Histogram({
    name: 'taskyard_job_queue_seconds',
    help: 'How long a job waited in its queue before its first run started (after its delay, if any)',
    labelNames: ['task', 'queue'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  private readonly deliverySeconds = new Histogram({
    name: 'taskyard_event_delivery_seconds',
    help: "From a live event being stored to its hand-over to a watching client's stream (SSE or WebSocket), per client",
    buckets: FAST_BUCKETS,
    registers: [this.registry],
  });

  private readonly connections = new Gauge({
    name: 'taskyard_live_connections',
    help: 'Open SSE streams and WebSocket connections',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  private readonly httpSeconds = new Histogram({
    name: 'taskyard_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: FAST_BUCKETS,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // Both transports show from the start, at 0.
    for (const transport of ['sse', 'ws'] as const) this.connections.set({ transport }, 0);
  }

  jobsEnqueued(task: string, queue: string, count = 1): void {
    this.enqueued.inc({ task, queue }, count);
  }

  /** A run started on this worker; `readyAt` is when the job could first run (undefined for a retry). */
  jobStarted(task: string, queue: string, readyAt: number | undefined): void {
    if (readyAt !== undefined) this.waitSeconds.observe({ task, queue }, Math.max(0, Date.now() - readyAt) / 1000);
  }

  jobEnded(task: string, queue: string, outcome: JobOutcome, runMs: number): void {
    this.ended.inc({ task, queue, outcome });
    this.runSeconds.observe({ task, queue, outcome }, runMs / 1000);
  }

  /** A live event handed to a client; `storedAt` is the event's `at`. */
  delivered(storedAt: string): void {
    const ms = Date.now() - Date.parse(storedAt);
    if (Number.isFinite(ms)) this.deliverySeconds.observe(Math.max(0, ms) / 1000);
  }

  connectionOpened(transport: Transport): void {
    this.connections.inc({ transport });
  }

  connectionClosed(transport: Transport): void {
    this.connections.dec({ transport });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpSeconds.observe({ method, route, status: String(status) }, seconds);
  }

  /** Per-queue gauges read from the engine and history at each scrape (API processes). */
  watchQueues(source: QueueStateSource): void {
    const states = ['waiting', 'active', 'delayed'] as const;
    // Each gauge reads the state itself: a scrape collects gauges concurrently, so a shared read could be the previous scrape's.
    const readAll = async (): Promise<Map<string, Awaited<ReturnType<QueueStateSource['state']>>>> => {
      const states = new Map<string, Awaited<ReturnType<QueueStateSource['state']>>>();
      for (const queue of source.queues()) states.set(queue, await source.state(queue));
      return states;
    };
    new Gauge({
      name: 'taskyard_queue_jobs',
      help: 'Jobs in each queue by state (waiting, active, delayed), from the shared queue engine',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [queue, state] of await readAll()) for (const name of states) this.set({ queue, state: name }, state[name]);
      },
    });
    new Gauge({
      name: 'taskyard_queue_paused',
      help: '1 when the queue is paused',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [queue, state] of await readAll()) this.set({ queue }, state.paused ? 1 : 0);
      },
    });
    new Gauge({
      name: 'taskyard_queue_oldest_waiting_seconds',
      help: 'Age of the longest-waiting job that could run now (0 when none waits)',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const queue of source.queues()) {
          const since = await source.oldestWaiting(queue);
          this.set({ queue }, since ? Math.max(0, Date.now() - since.getTime()) / 1000 : 0);
        }
      },
    });
  }

  /** Events in the log not yet in history (Redis: the projector's backlog; 0 where history is the log). */
  watchEventLogLag(lag: () => Promise<number>): void {
    new Gauge({
      name: 'taskyard_event_log_lag_events',
      help: 'Events appended to the live log but not yet written to history',
      registers: [this.registry],
      async collect() {
        this.set(await lag());
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
