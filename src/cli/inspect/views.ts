// The four views of `taskyard inspect`: each reads the API, then answers JSON
// (for scripts) and a table (for people).
import type { ListedWorker } from '../../events/worker-info.js';
import { ago, duration } from '../../format-time.js';
import type { JobProgress, QueueInfo } from '../../client/types.js';
import { InspectApi } from './api.js';
import { renderTable } from './table.js';

export type ViewName = 'active' | 'registered' | 'stats' | 'workers';

export interface InspectOptions {
  url: string;
  json?: boolean;
  timeout: number;
  /** stats only. */
  minutes?: number;
}

interface Report {
  json: unknown;
  /** The table, or a sentence when there is nothing to list. */
  text: string;
}

/** A job a worker holds, as `inspect active` lists it. */
export interface ActiveEntry {
  jobId: string;
  task: string;
  queue: string;
  startedAt: string;
  /** What history shows (null when it has not caught up yet). */
  progress: JobProgress | null;
  attempts: number | null;
  worker: { id: string; host: string; pid: number; alive: boolean };
}

export interface QueueStats extends QueueInfo {
  /** Average over the last `minutes`. */
  perMinute: { completed: number; failed: number; cancelled: number };
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
const workerName = (worker: { host: string; pid: number }): string => `${worker.host}:${worker.pid}`;

function progressText(progress: JobProgress | null): string {
  if (!progress) return '';
  const percent = progress.percent ?? (progress.current !== undefined && progress.total ? (100 * progress.current) / progress.total : undefined);
  return [percent === undefined ? '' : `${Math.round(percent)}%`, progress.message ?? ''].filter(Boolean).join(' ');
}

async function active(api: InspectApi): Promise<Report> {
  const [workers, jobs] = await Promise.all([api.workers(), api.activeJobs()]);
  const history = new Map(jobs.map((job) => [job.id, job]));
  const now = Date.now();
  const entries: ActiveEntry[] = workers
    .flatMap((worker) =>
      worker.active.map((job) => ({
        ...job,
        progress: history.get(job.jobId)?.progress ?? null,
        attempts: history.get(job.jobId)?.attempts ?? null,
        worker: { id: worker.id, host: worker.host, pid: worker.pid, alive: worker.alive },
      })),
    )
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const text = renderTable(
    ['job', 'task', 'queue', 'worker', 'running for', 'attempt', 'progress'],
    entries.map((entry) => [
      entry.jobId,
      entry.task,
      entry.queue,
      `${workerName(entry.worker)}${entry.worker.alive ? '' : ' (silent)'}`,
      duration(now - Date.parse(entry.startedAt)),
      entry.attempts ?? '',
      progressText(entry.progress),
    ]),
    `No job is running (${plural(workers.filter((worker) => worker.alive).length, 'live worker')}).`,
  );
  return { json: { active: entries }, text };
}

const servedBy = (workers: readonly ListedWorker[], queue: string): number => workers.filter((worker) => worker.alive && worker.queues.includes(queue)).length;

async function registered(api: InspectApi): Promise<Report> {
  const [tasks, workers] = await Promise.all([api.tasks(), api.workers()]);
  const entries = tasks.map(({ name, queue, description, attempts, timeoutMs }) => ({ name, queue, description, attempts, timeoutMs, workers: servedBy(workers, queue) }));
  const text = renderTable(
    ['task', 'queue', 'live workers', 'attempts', 'time limit', 'description'],
    entries.map((task) => [task.name, task.queue, task.workers, task.attempts ?? '', task.timeoutMs ? duration(task.timeoutMs) : '', truncate(task.description ?? '', 60)]),
    'No task is registered.',
  );
  return { json: { tasks: entries }, text };
}

const truncate = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

async function stats(api: InspectApi, minutes: number): Promise<Report> {
  const queues = await api.queues();
  const rounded = (n: number): number => Math.round((n / minutes) * 100) / 100;
  const entries: QueueStats[] = await Promise.all(
    queues.map(async (queue) => {
      const { buckets } = await api.throughput(minutes, queue.name);
      const sum = (key: 'completed' | 'failed' | 'cancelled'): number => buckets.reduce((total, bucket) => total + bucket[key], 0);
      return { ...queue, perMinute: { completed: rounded(sum('completed')), failed: rounded(sum('failed')), cancelled: rounded(sum('cancelled')) } };
    }),
  );
  const text = renderTable(
    ['queue', 'paused', 'waiting', 'active', 'delayed', 'completed', 'failed', 'cancelled', `completed/min (${minutes} min)`, 'failed/min'],
    entries.map((q) => [q.name, q.paused ? 'yes' : 'no', q.waiting, q.active, q.delayed, q.completed, q.failed, q.cancelled, q.perMinute.completed, q.perMinute.failed]),
    'No queue (no task is registered).',
  );
  return { json: { minutes, queues: entries }, text };
}

async function workers(api: InspectApi): Promise<Report> {
  const listed = await api.workers();
  const now = Date.now();
  const text = renderTable(
    ['host', 'pid', 'queues', 'concurrency', 'jobs in hand', 'last heartbeat', 'alive'],
    listed.map((worker) => [
      worker.host,
      worker.pid,
      worker.queues.join(', '),
      worker.concurrency,
      `${worker.active.length} / ${worker.concurrency * worker.queues.length}`,
      ago(worker.heartbeatAt, now),
      worker.alive ? 'yes' : 'no',
    ]),
    'No worker has sent a heartbeat in the last 5 minutes.',
  );
  return { json: { workers: listed }, text };
}

const VIEWS: Record<ViewName, (api: InspectApi, options: InspectOptions) => Promise<Report>> = {
  active,
  registered,
  stats: (api, options) => stats(api, options.minutes ?? 15),
  workers,
};

/** Runs one view and prints it. */
export async function inspect(view: ViewName, options: InspectOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const report = await VIEWS[view](new InspectApi(options.url, options.timeout), options);
  out.write(options.json ? `${JSON.stringify(report.json, null, 2)}\n` : report.text);
}
