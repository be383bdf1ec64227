// What the public /v1 API sends, as the dashboard reads it (see docs/dashboard.md).

export type JobStatus = 'queued' | 'active' | 'retrying' | 'completed' | 'failed' | 'cancelled';

export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'active', 'retrying', 'completed', 'failed', 'cancelled'];

export const isTerminal = (status: string): boolean => status === 'completed' || status === 'failed' || status === 'cancelled';

/** A JSON Schema (draft 2020-12) node, as zod generates them for task inputs. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  maxItems?: number;
}

export interface TaskInfo {
  name: string;
  queue: string;
  description?: string;
  attempts: number;
  timeoutMs?: number;
  hardTimeoutMs?: number;
  inputSchema: JsonSchema;
}

export interface JobProgress {
  current?: number;
  total?: number;
  percent?: number;
  message?: string;
}

export interface JobErrorInfo {
  code?: string;
  message: string;
  stack?: string;
  attempt?: number;
}

export interface JobView {
  id: string;
  task: string;
  queue: string;
  status: JobStatus;
  progress: JobProgress | null;
  attempts: number;
  maxAttempts: number;
  priority: number;
  input: unknown;
  createdAt: string;
  runAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  cancelRequested: boolean;
  result?: unknown;
  error?: JobErrorInfo;
  retryOf?: string | null;
  links: { self: string; events: string; cancel: string };
}

export interface JobPage {
  jobs: JobView[];
  nextCursor: string | null;
}

export interface QueueInfo {
  name: string;
  paused: boolean;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  active: { jobId: string; task: string; queue: string; startedAt: string }[];
  startedAt: string;
  heartbeatAt: string;
  alive: boolean;
}

export interface Throughput {
  bucketSeconds: number;
  from: string;
  to: string;
  buckets: { at: string; completed: number; failed: number; cancelled: number }[];
}

export interface Artifact {
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: string;
  url: string;
}

export interface ErrorDetail {
  path: string;
  message: string;
}
