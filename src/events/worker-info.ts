// What workers say of themselves, as `GET /v1/workers` shows it. No imports: the
// dashboard reads these types too.

/** A job a worker holds right now. */
export interface ActiveJob {
  jobId: string;
  task: string;
  queue: string;
  startedAt: string;
}

/** What a worker process says of itself on each heartbeat. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  /** Jobs at once, per queue. */
  concurrency: number;
  active: ActiveJob[];
  startedAt: string;
  heartbeatAt: string;
}

/** A worker as the API lists it. */
export interface ListedWorker extends WorkerInfo {
  /** Heard from within the last few heartbeats. */
  alive: boolean;
}
