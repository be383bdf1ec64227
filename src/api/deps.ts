import type { Engine } from '../engine/engine.js';
import type { CancelBus } from '../events/cancel-bus.js';
import type { Delivery } from '../events/delivery.js';
import type { EventLog } from '../events/event-log.js';
import type { WorkerDirectory } from '../events/worker-directory.js';
import type { FileStore } from '../history/files.js';
import type { JobStore } from '../history/jobs.js';
import type { Metrics } from '../observability/metrics.js';
import type { SubmitJob, SubmitMany } from '../submit-job.js';
import type { TaskRegistry } from '../tasks/registry.js';

/** What the HTTP layer needs from the rest of Taskyard. */
export interface ApiDeps {
  engine: Engine;
  store: JobStore;
  log: EventLog;
  delivery: Delivery;
  cancelBus: CancelBus;
  registry: TaskRegistry;
  /** Jobs' artifacts (and uploads). */
  files: FileStore;
  /** Enqueues a job (validation, admission control, idempotency, history, engine). */
  submit: SubmitJob;
  /** Many jobs at once, all or none. */
  submitMany: SubmitMany;
  /** The worker processes' heartbeats. */
  workers: WorkerDirectory;
  /** Prometheus metrics (open live connections here; the server's /metrics serves them). */
  metrics?: Metrics;
  /** The in-process worker's health (`taskyard start`): `/ready` checks it too. */
  workerHealth?: () => Promise<void>;
}
