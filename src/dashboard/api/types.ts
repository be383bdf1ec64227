// What the public /v1 API sends, as the dashboard reads it (see docs/dashboard.md).

// The server's own definitions where they need nothing else (they are bundled or erased).
import type { JobProgress } from '../../client/types';
import type { JobStatus } from '../../events/types';

export { JOB_STATUSES, isTerminalStatus as isTerminal, type JobStatus } from '../../events/types';
export type { JobProgress, QueueInfo, ThroughputInfo as Throughput } from '../../client/types';
export type { ListedWorker as WorkerInfo } from '../../events/worker-info';

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
