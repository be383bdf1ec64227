// Narrows the server's JSON to the client's types. Each decoder checks the
// fields the client relies on and throws a TypeError naming the first one amiss;
// the transport turns that into a TaskyardHttpError (TASKYARD_ERR_BAD_RESPONSE).
import type { JobError } from '../errors.js';
import { EVENT_TYPES, JOB_STATUSES, type EventType, type JobEvent, type JobStatus } from '../events/types.js';
import type { CancelResult, EnqueuedJobInfo, JobInfo, JobLinks, JobPage, JobProgress, TaskInfo } from './types.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new TypeError(`${what} is not an object`);
  return value;
}

function string(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} is not a string`);
  return value;
}

function nullableString(value: unknown, what: string): string | null {
  return value === null || value === undefined ? null : string(value, what);
}

export function isJobStatus(value: unknown): value is JobStatus {
  return (JOB_STATUSES as readonly unknown[]).includes(value);
}

export function isEventType(value: unknown): value is EventType {
  return (EVENT_TYPES as readonly unknown[]).includes(value);
}

function status(value: unknown, what: string): JobStatus {
  if (!isJobStatus(value)) throw new TypeError(`${what} is not a job status`);
  return value;
}

export function decodeJobError(value: unknown, what = 'error'): JobError {
  const error = record(value, what);
  return { ...error, code: string(error['code'], `${what}.code`), message: string(error['message'], `${what}.message`) };
}

export function decodeJob(value: unknown, what = 'job'): JobInfo {
  const job = record(value, what);
  const progress = job['progress'] ?? null;
  const view: JobInfo = {
    id: string(job['id'], `${what}.id`),
    task: string(job['task'], `${what}.task`),
    queue: string(job['queue'], `${what}.queue`),
    status: status(job['status'], `${what}.status`),
    progress: progress === null ? null : (record(progress, `${what}.progress`) as JobProgress),
    attempts: typeof job['attempts'] === 'number' ? job['attempts'] : 0,
    createdAt: string(job['createdAt'], `${what}.createdAt`),
    startedAt: nullableString(job['startedAt'], `${what}.startedAt`),
    finishedAt: nullableString(job['finishedAt'], `${what}.finishedAt`),
  };
  if (job['result'] !== undefined) view.result = job['result'];
  if (job['error'] !== undefined && job['error'] !== null) view.error = decodeJobError(job['error'], `${what}.error`);
  return view;
}

export function decodeEnqueued(value: unknown): EnqueuedJobInfo {
  const job = record(value, 'job');
  const links = record(job['links'], 'job.links');
  return {
    id: string(job['id'], 'job.id'),
    task: string(job['task'], 'job.task'),
    queue: string(job['queue'], 'job.queue'),
    status: status(job['status'], 'job.status'),
    createdAt: string(job['createdAt'], 'job.createdAt'),
    links: {
      self: string(links['self'], 'job.links.self'),
      events: string(links['events'], 'job.links.events'),
      cancel: string(links['cancel'], 'job.links.cancel'),
    } satisfies JobLinks,
  };
}

export function decodeCancel(value: unknown): CancelResult {
  const body = record(value, 'body');
  return { id: string(body['id'], 'id'), status: status(body['status'], 'status') };
}

export function decodeJobPage(value: unknown): JobPage {
  const body = record(value, 'body');
  const jobs = body['jobs'];
  if (!Array.isArray(jobs)) throw new TypeError('jobs is not an array');
  return { jobs: jobs.map((job, i) => decodeJob(job, `jobs[${i}]`)), nextCursor: nullableString(body['nextCursor'], 'nextCursor') };
}

export function decodeTasks(value: unknown): TaskInfo[] {
  const tasks = record(value, 'body')['tasks'];
  if (!Array.isArray(tasks)) throw new TypeError('tasks is not an array');
  return tasks.map((value, i) => {
    const task = record(value, `tasks[${i}]`);
    const info: TaskInfo = {
      name: string(task['name'], `tasks[${i}].name`),
      queue: string(task['queue'], `tasks[${i}].queue`),
      inputSchema: task['inputSchema'],
    };
    if (typeof task['description'] === 'string') info.description = task['description'];
    return info;
  });
}

/** One entry of a job's log. `event` is undefined for a type this client does not know. */
export interface LogEntry {
  seq: number;
  event: JobEvent | undefined;
}

/** Builds a log entry; `at` is '' when the transport does not carry it (SSE). */
export function logEntry(jobId: string, seq: number, type: unknown, data: unknown, at: string): LogEntry {
  return { seq, event: isEventType(type) ? { jobId, seq, type, data, at } : undefined };
}

export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

/** The polling form of a job's log: `GET /v1/jobs/{id}/events` with `Accept: application/json`. */
export function decodeEvents(value: unknown, jobId: string): LogEntry[] {
  if (!Array.isArray(value)) throw new TypeError('events is not an array');
  return value.map((value, i) => {
    const event = record(value, `events[${i}]`);
    const seq = event['seq'];
    if (!isSeq(seq)) throw new TypeError(`events[${i}].seq is not a positive integer`);
    const at = typeof event['at'] === 'string' ? event['at'] : '';
    return logEntry(jobId, seq, event['type'], event['data'], at);
  });
}
